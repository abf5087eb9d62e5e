import Datasets
import Foundation

/// A labelled line chart for reports: axes with tick values, axis titles, a legend, optional
/// vertical error bars (e.g. 95 % intervals) and a log-scale x axis.
public struct LineChart {
    /// One line: points (x, y) with an optional interval [low, high] per point.
    public struct Series {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public var low: [Double]?
        public var high: [Double]?
        public init(name: String, x: [Double], y: [Double], low: [Double]? = nil, high: [Double]? = nil) {
            self.name = name; self.x = x; self.y = y; self.low = low; self.high = high
        }
    }

    public var series: [Series]
    public var xLabel: String
    public var yLabel: String
    public var title = ""
    public var logX = false
    public var width = 640
    public var height = 400
    /// Point markers (off for long curves such as loss per step).
    public var markers = true

    public init(_ series: [Series], xLabel: String, yLabel: String, title: String = "") {
        self.series = series; self.xLabel = xLabel; self.yLabel = yLabel; self.title = title
    }

    /// Renders the chart (white background, black axes and text, `LinePlot.palette` colours).
    public func render() -> ImageBuffer {
        var img = ImageBuffer(width: width, height: height, channels: 3, fill: 1)
        let left = 70, right = 20, top = title.isEmpty ? 28 : 44, bottom = 60
        let legendH = 12 * series.count
        let plotW = width - left - right, plotH = height - top - bottom - legendH
        func tx(_ x: Double) -> Double { logX ? log10(max(x, 1e-12)) : x }
        let xs = series.flatMap { $0.x.map(tx) }.filter(\.isFinite)
        let ys = series.flatMap { s in s.y + (s.low ?? []) + (s.high ?? []) }.filter(\.isFinite)
        guard let x0 = xs.min(), let x1 = xs.max(), let yMin = ys.min(), let yMax = ys.max(), plotW > 10, plotH > 10 else { return img }
        let pad = (yMax - yMin) * 0.05 + 1e-9
        let y0 = yMin - pad, y1 = yMax + pad
        let xSpan = max(x1 - x0, 1e-9), ySpan = y1 - y0
        func px(_ x: Double) -> Int { left + Int((tx(x) - x0) / xSpan * Double(plotW - 1)) }
        func py(_ y: Double) -> Int { top + plotH - 1 - Int((y - y0) / ySpan * Double(plotH - 1)) }
        func put(_ x: Int, _ y: Int, _ c: (Float, Float, Float)) {
            guard x >= 0 && x < width && y >= 0 && y < height else { return }
            img[x, y, 0] = c.0; img[x, y, 1] = c.1; img[x, y, 2] = c.2
        }
        func line(_ a: (Int, Int), _ b: (Int, Int), _ c: (Float, Float, Float), thick: Bool = true) {
            let n = max(abs(b.0 - a.0), abs(b.1 - a.1), 1)
            for t in 0...n {
                let x = a.0 + (b.0 - a.0) * t / n, y = a.1 + (b.1 - a.1) * t / n
                put(x, y, c); if thick { put(x, y + 1, c) }
            }
        }
        let black: (Float, Float, Float) = (0, 0, 0), grid: (Float, Float, Float) = (0.88, 0.88, 0.88)
        // Ticks: 5 on y; on x the distinct x values when few, else 5.
        let yTicks = (0...4).map { y0 + ySpan * Double($0) / 4 }
        for v in yTicks {
            let y = py(v)
            line((left, y), (left + plotW - 1, y), grid, thick: false)
            line((left - 4, y), (left, y), black, thick: false)
            let label = Self.format(v)
            BitmapFont.draw(label, into: &img, x: left - 6 - 8 * label.count, y: y - 5, scale: 2, value: 0)
        }
        let distinct = Array(Set(series.flatMap(\.x))).sorted()
        let xTicks = distinct.count <= 6 ? distinct : (0...4).map { i -> Double in
            let t = x0 + xSpan * Double(i) / 4
            return logX ? pow(10, t) : t
        }
        for v in xTicks {
            let x = px(v)
            line((x, top), (x, top + plotH - 1), grid, thick: false)
            line((x, top + plotH), (x, top + plotH + 4), black, thick: false)
            let label = Self.format(v)
            BitmapFont.draw(label, into: &img, x: x - 4 * label.count, y: top + plotH + 8, scale: 2, value: 0)
        }
        line((left, top), (left, top + plotH), black, thick: false)
        line((left, top + plotH), (left + plotW - 1, top + plotH), black, thick: false)
        BitmapFont.draw(xLabel, into: &img, x: left + plotW / 2 - 4 * xLabel.count, y: top + plotH + 24, scale: 2, value: 0)
        BitmapFont.draw(yLabel, into: &img, x: 4, y: top - 18, scale: 2, value: 0)
        if !title.isEmpty { BitmapFont.draw(title, into: &img, x: left, y: 4, scale: 2, value: 0) }
        // Lines, interval bars, markers.
        for (k, s) in series.enumerated() {
            let c = LinePlot.palette[k % LinePlot.palette.count]
            var prev: (Int, Int)?
            for i in 0..<min(s.x.count, s.y.count) where s.y[i].isFinite {
                let p = (px(s.x[i]), py(s.y[i]))
                if let q = prev { line(q, p, c) }
                prev = p
                if let lo = s.low?[i], let hi = s.high?[i], lo.isFinite, hi.isFinite {
                    line((p.0, py(lo)), (p.0, py(hi)), c, thick: false)
                    line((p.0 - 3, py(lo)), (p.0 + 3, py(lo)), c, thick: false)
                    line((p.0 - 3, py(hi)), (p.0 + 3, py(hi)), c, thick: false)
                }
                if markers { for dx in -2...2 { for dy in -2...2 { put(p.0 + dx, p.1 + dy, c) } } }
            }
            // Legend entry below the x-axis title.
            let ly = top + plotH + 44 + 12 * k
            line((left, ly + 4), (left + 24, ly + 4), c)
            BitmapFont.draw(s.name, into: &img, x: left + 32, y: ly, scale: 2, value: 0)
        }
        return img
    }

    /// Compact tick text: 3 significant digits.
    static func format(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a < 1e4 && a >= 1 && v.rounded() == v { return String(format: "%.0f", v) }
        if a >= 1000 || a < 0.01 { return String(format: "%.2g", v).replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e-0", with: "e-") }
        if a >= 100 { return String(format: "%.0f", v) }
        if a >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.2f", v)
    }
}
