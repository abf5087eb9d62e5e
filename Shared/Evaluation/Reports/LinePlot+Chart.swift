import Datasets
import Foundation

/// One line of a chart: its y values at the given x values, and its legend label.
public struct ChartSeries: Sendable {
    public var label: String
    public var x: [Double]
    public var y: [Double]
    /// Draw a small square at every point (for sparse series).
    public var markers: Bool
    /// Connect consecutive points (false: a scatter of markers).
    public var lines: Bool
    public init(label: String, x: [Double], y: [Double], markers: Bool = false, lines: Bool = true) {
        self.label = label; self.x = x; self.y = y; self.markers = markers || !lines; self.lines = lines
    }
}

extension LinePlot {
    /// A report figure with axes, tick labels, axis titles and a legend (the built-in 3x5 font,
    /// upper-cased): each series drawn in palette order on shared axes; `logX` / `logY` plot
    /// log10 of the values (ticks show the values themselves). Non-finite points are skipped.
    public static func chart(_ series: [ChartSeries], title: String = "", xLabel: String, yLabel: String,
                             logX: Bool = false, logY: Bool = false, width: Int = 560, height: Int = 360,
                             yRange: ClosedRange<Double>? = nil) throws -> ImageBuffer {
        var img = ImageBuffer(width: width, height: height, channels: 3, fill: 1)
        func tx(_ v: Double) -> Double { logX ? log10(max(v, 1e-12)) : v }
        func ty(_ v: Double) -> Double { logY ? log10(max(v, 1e-12)) : v }
        let xs = series.flatMap { $0.x.map(tx) }.filter(\.isFinite)
        let ys = series.flatMap { $0.y.map(ty) }.filter(\.isFinite)
        guard var x0 = xs.min(), var x1 = xs.max(), var y0 = ys.min(), var y1 = ys.max() else { return img }
        if let r = yRange { y0 = ty(r.lowerBound); y1 = ty(r.upperBound) }
        if x1 - x0 < 1e-12 { x0 -= 0.5; x1 += 0.5 }
        if y1 - y0 < 1e-12 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.05
        if yRange == nil { y0 -= pad; y1 += pad }
        let left = 52, right = 12, top = title.isEmpty ? 12 : 24, legendH = 10 * ((series.count + 2) / 3) + 6
        let bottom = 30 + legendH
        let pw = width - left - right, ph = height - top - bottom
        func px(_ v: Double) -> Int { left + Int(((v - x0) / (x1 - x0)) * Double(pw - 1)) }
        func py(_ v: Double) -> Int { top + ph - 1 - Int(((v - y0) / (y1 - y0)) * Double(ph - 1)) }
        func put(_ x: Int, _ y: Int, _ c: (Float, Float, Float)) {
            guard x >= 0 && x < width && y >= 0 && y < height else { return }
            let o = (y * width + x) * 3
            img.pixels[o] = c.0; img.pixels[o + 1] = c.1; img.pixels[o + 2] = c.2
        }
        let black: (Float, Float, Float) = (0, 0, 0), grid: (Float, Float, Float) = (0.88, 0.88, 0.88)
        // Ticks, grid lines and labels.
        for (k, v) in ticks(x0, x1, count: 6, log: logX).enumerated() where k < 12 {
            let p = px(v)
            for y in top..<(top + ph) { put(p, y, grid) }
            for y in (top + ph)..<(top + ph + 4) { put(p, y, black) }
            let s = label(logX ? pow(10, v) : v)
            ImageGrid.drawText(s, into: &img, x: p - 2 * s.count, y: top + ph + 6, scale: 1, value: 0)
        }
        for v in ticks(y0, y1, count: 5, log: logY) {
            let p = py(v)
            for x in left..<(left + pw) { put(x, p, grid) }
            for x in (left - 4)..<left { put(x, p, black) }
            let s = label(logY ? pow(10, v) : v)
            ImageGrid.drawText(s, into: &img, x: left - 6 - 4 * s.count, y: p - 2, scale: 1, value: 0)
        }
        for x in left..<(left + pw) { put(x, top + ph, black) }
        for y in top..<(top + ph) { put(left, y, black) }
        ImageGrid.drawText(xLabel + (logX ? " (LOG)" : ""), into: &img, x: left + pw / 2 - 2 * xLabel.count, y: top + ph + 16, scale: 1, value: 0)
        ImageGrid.drawText(yLabel + (logY ? " (LOG)" : ""), into: &img, x: 4, y: top - (title.isEmpty ? 10 : 10), scale: 1, value: 0)
        if !title.isEmpty { ImageGrid.drawText(title, into: &img, x: left + pw / 2 - 4 * title.count, y: 4, scale: 2, value: 0) }
        // Series.
        for (k, s) in series.enumerated() {
            let c = palette[k % palette.count]
            var prev: (Int, Int)?
            for (xv, yv) in zip(s.x, s.y) {
                let a = tx(xv), b = ty(yv)
                guard a.isFinite, b.isFinite else { prev = nil; continue }
                let p = (px(a), py(min(max(b, y0), y1)))
                if s.lines, let q = prev {
                    let n = max(abs(p.0 - q.0), abs(p.1 - q.1), 1)
                    for t in 0...n {
                        let x = q.0 + (p.0 - q.0) * t / n, y = q.1 + (p.1 - q.1) * t / n
                        put(x, y, c); put(x, y + 1, c)
                    }
                }
                if s.markers { for dy in -2...2 { for dx in -2...2 { put(p.0 + dx, p.1 + dy, c) } } }
                prev = p
            }
        }
        // Legend: three entries per row under the x-axis title.
        for (k, s) in series.enumerated() {
            let c = palette[k % palette.count]
            let lx = left + (k % 3) * (pw / 3), ly = top + ph + 28 + 10 * (k / 3)
            for x in lx..<(lx + 14) { put(x, ly + 2, c); put(x, ly + 3, c) }
            ImageGrid.drawText(s.label, into: &img, x: lx + 18, y: ly, scale: 1, value: 0)
        }
        return img
    }

    /// About `count` round tick positions in [lo, hi] (in plotted units; log axes get whole decades
    /// and their 2x, 5x when few decades are shown).
    static func ticks(_ lo: Double, _ hi: Double, count: Int, log: Bool) -> [Double] {
        if log {
            var out: [Double] = []
            let decades = Int(ceil(hi) - floor(lo))
            for d in Int(floor(lo))...Int(ceil(hi)) {
                for m in decades <= 2 ? [1.0, 2, 5] : [1.0] {
                    let v = Double(d) + log10(m)
                    if v >= lo && v <= hi { out.append(v) }
                }
            }
            return out
        }
        let raw = (hi - lo) / Double(max(count, 1))
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var k = ceil(lo / step - 1e-9)
        while k * step <= hi + step * 1e-9 {
            out.append(Double(String(format: "%.12g", k * step))! + 0)   // 0.6000000000000001 -> 0.6; -0 -> 0
            k += 1
        }
        return out
    }

    /// Short tick text: up to 3 significant digits.
    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1000 || a < 0.01 { return String(format: "%.0e", v).replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e-0", with: "e-") }
        if a >= 100 { return String(format: "%.0f", v) }
        if a >= 10 { return String(format: "%.3g", v) }
        return String(format: "%.3g", v)
    }
}
