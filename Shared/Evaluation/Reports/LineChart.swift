import Datasets
import Foundation

/// A labelled line chart for reports: axes with tick values, axis titles, a legend, optional
/// vertical error bars (e.g. 95 % intervals), log-scale axes, a fixed y range, and scatter series
/// (`lines: false`). The one chart of every report (generator, personalize, distill, tokenizer).
public struct LineChart {
    /// One line: points (x, y) with an optional interval [low, high] per point.
    public struct Series {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public var low: [Double]?
        public var high: [Double]?
        /// Connect consecutive points (false: a scatter of markers).
        public var lines: Bool
        /// Markers at the points: nil follows the chart's `markers`; scatters always have them.
        public var markers: Bool?
        public init(name: String, x: [Double], y: [Double], low: [Double]? = nil, high: [Double]? = nil,
                    lines: Bool = true, markers: Bool? = nil) {
            self.name = name; self.x = x; self.y = y; self.low = low; self.high = high
            self.lines = lines; self.markers = lines ? markers : true
        }
    }

    public var series: [Series]
    public var xLabel: String
    public var yLabel: String
    public var title = ""
    public var logX = false
    public var logY = false
    /// Fixed y range (values outside are clamped to the frame); nil fits the data.
    public var yRange: ClosedRange<Double>?
    public var width = 640
    public var height = 400
    /// Point markers (off for long curves such as loss per step).
    public var markers = true

    public init(_ series: [Series], xLabel: String, yLabel: String, title: String = "") {
        self.series = series; self.xLabel = xLabel; self.yLabel = yLabel; self.title = title
    }

    /// A rendered chart in one call: lines without markers unless a series asks for them.
    public static func figure(_ series: [Series], title: String = "", xLabel: String, yLabel: String,
                              logX: Bool = false, logY: Bool = false, yRange: ClosedRange<Double>? = nil,
                              width: Int = 640, height: Int = 400) -> ImageBuffer {
        var c = LineChart(series, xLabel: xLabel, yLabel: yLabel, title: title)
        c.logX = logX; c.logY = logY; c.yRange = yRange; c.markers = false; c.width = width; c.height = height
        return c.render()
    }

    /// Renders the chart (white background, black axes and text, `LinePlot.palette` colours).
    public func render() -> ImageBuffer {
        var img = ImageBuffer(width: width, height: height, channels: 3, fill: 1)
        let titleLines = Self.wrap(title, maxChars: (width - 8) / 8)
        let left = 70, right = 20, top = 28 + 16 * titleLines.count, bottom = 60
        let legendH = 12 * series.count
        let plotW = width - left - right, plotH = height - top - bottom - legendH
        func tx(_ x: Double) -> Double { logX ? log10(max(x, 1e-12)) : x }
        func ty(_ y: Double) -> Double { logY ? log10(max(y, 1e-12)) : y }
        let xs = series.flatMap { $0.x.map(tx) }.filter(\.isFinite)
        let ys = series.flatMap { s in (s.y + (s.low ?? []) + (s.high ?? [])).map(ty) }.filter(\.isFinite)
        guard let x0 = xs.min(), let x1 = xs.max(), var y0 = ys.min(), var y1 = ys.max(), plotW > 10, plotH > 10 else { return img }
        if let r = yRange {
            y0 = ty(r.lowerBound); y1 = ty(r.upperBound)
        } else {
            let pad = (y1 - y0) * 0.05 + 1e-9
            y0 -= pad; y1 += pad
        }
        let xSpan = max(x1 - x0, 1e-9), ySpan = max(y1 - y0, 1e-9)
        func px(_ x: Double) -> Int { left + Int((tx(x) - x0) / xSpan * Double(plotW - 1)) }
        func py(_ y: Double) -> Int { top + plotH - 1 - Int((min(max(ty(y), y0), y1) - y0) / ySpan * Double(plotH - 1)) }
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
        // Ticks: round values on linear axes (`Ticks`); 5 even steps on log axes; on x the distinct x
        // values when few.
        func evenLog(_ a: Double, _ span: Double) -> Ticks {
            let values = (0...4).map { pow(10, a + span * Double($0) / 4) }
            return Ticks(values: values, labels: values.map(Self.format))
        }
        let yTicks = logY ? evenLog(y0, ySpan) : Ticks(y0, y1)
        for (v, label) in zip(yTicks.values, yTicks.labels) {
            let y = py(v)
            line((left, y), (left + plotW - 1, y), grid, thick: false)
            line((left - 4, y), (left, y), black, thick: false)
            BitmapFont.draw(label, into: &img, x: left - 6 - 8 * label.count, y: y - 5, scale: 2, value: 0)
        }
        let distinct = Array(Set(series.flatMap(\.x))).sorted()
        let xTicks = distinct.count <= 6 ? Ticks(values: distinct, labels: distinct.map(Self.format))
                                         : logX ? evenLog(x0, xSpan) : Ticks(x0, x1)
        for (v, label) in zip(xTicks.values, xTicks.labels) {
            let x = px(v)
            line((x, top), (x, top + plotH - 1), grid, thick: false)
            line((x, top + plotH), (x, top + plotH + 4), black, thick: false)
            BitmapFont.draw(label, into: &img, x: x - 4 * label.count, y: top + plotH + 8, scale: 2, value: 0)
        }
        line((left, top), (left, top + plotH), black, thick: false)
        line((left, top + plotH), (left + plotW - 1, top + plotH), black, thick: false)
        BitmapFont.draw(xLabel, into: &img, x: left + plotW / 2 - 4 * xLabel.count, y: top + plotH + 24, scale: 2, value: 0)
        BitmapFont.draw(yLabel, into: &img, x: 4, y: top - 18, scale: 2, value: 0)
        for (i, t) in titleLines.enumerated() {   // from the plot's left edge when the line fits there
            BitmapFont.draw(t, into: &img, x: 8 * t.count <= width - left - 4 ? left : 4, y: 4 + 16 * i, scale: 2, value: 0)
        }
        // Lines, interval bars, markers.
        for (k, s) in series.enumerated() {
            let c = LinePlot.palette[k % LinePlot.palette.count]
            var prev: (Int, Int)?
            for i in 0..<min(s.x.count, s.y.count) {
                guard s.y[i].isFinite, tx(s.x[i]).isFinite else { prev = nil; continue }
                let p = (px(s.x[i]), py(s.y[i]))
                if s.lines, let q = prev { line(q, p, c) }
                prev = p
                if let lo = s.low?[i], let hi = s.high?[i], lo.isFinite, hi.isFinite {
                    line((p.0, py(lo)), (p.0, py(hi)), c, thick: false)
                    line((p.0 - 3, py(lo)), (p.0 + 3, py(lo)), c, thick: false)
                    line((p.0 - 3, py(hi)), (p.0 + 3, py(hi)), c, thick: false)
                }
                if s.markers ?? markers { for dx in -2...2 { for dy in -2...2 { put(p.0 + dx, p.1 + dy, c) } } }
            }
            // Legend entry below the x-axis title.
            let ly = top + plotH + 44 + 12 * k
            line((left, ly + 4), (left + 24, ly + 4), c)
            BitmapFont.draw(s.name, into: &img, x: left + 32, y: ly, scale: 2, value: 0)
        }
        return img
    }

    /// `text` split at spaces into lines of at most `maxChars` characters (a longer word gets its own line).
    static func wrap(_ text: String, maxChars: Int) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            if current.isEmpty { current = String(word) } else if current.count + 1 + word.count <= maxChars { current += " " + word } else {
                lines.append(current); current = String(word)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// `v` in %g form with `significant` digits and a compact exponent ("4e5", "1.5e-3").
    static func exponent(_ v: Double, significant: Int) -> String {
        String(format: "%.\(significant)g", v).replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e-0", with: "e-")
    }

    /// Compact tick text for a single value (x values, log axes): 3 significant digits.
    static func format(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a < 1e5 && a >= 1 && v.rounded() == v { return String(format: "%.0f", v) }
        if a >= 1e5 || a < 0.01 { return exponent(v, significant: 2) }
        if a >= 100 { return String(format: "%.0f", v) }
        if a >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.2f", v)
    }
}
