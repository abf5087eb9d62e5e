import Foundation

/// Line charts for reports, self-describing: a title, both axes with their names and end values,
/// and a legend (colour swatch + series name) drawn with the built-in bitmap font.
public enum LineChart {
    /// One named curve: (x, y) points in x order.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(_ name: String, _ points: [(x: Double, y: Double)]) { self.name = name; self.points = points }
        /// y values at x = 1, 2, ... (steps).
        public init(_ name: String, values: [Double]) {
            self.init(name, values.enumerated().map { (Double($0.offset + 1), $0.element) })
        }
    }

    /// Distinct colours in legend order: blue, orange, green, red, purple, brown, pink, grey.
    public static let palette: [(Float, Float, Float)] = [
        (0.12, 0.47, 0.71), (1.0, 0.5, 0.05), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16),
        (0.58, 0.4, 0.74), (0.55, 0.34, 0.29), (0.89, 0.47, 0.76), (0.5, 0.5, 0.5),
    ]

    /// Draws `series` on shared axes; `logY` plots log10(y) (the axis labels show y itself).
    /// Points are marked with small squares, so short series stay visible.
    public static func draw(_ series: [Series], title: String, xLabel: String, yLabel: String, logY: Bool = false,
                            width: Int = 560, height: Int = 340) throws -> ImageBuffer {
        guard !series.isEmpty else { throw DatasetError.invalidArgument(field: "series", message: "must not be empty") }
        guard width >= 200, height >= 160 else { throw DatasetError.invalidArgument(field: "width/height", message: "must be >= 200x160") }
        var img = ImageBuffer(width: width, height: height, channels: 3, fill: 1)
        func ty(_ y: Double) -> Double { logY ? log10(max(y, 1e-12)) : y }
        let pts = series.flatMap { $0.points }.filter { $0.x.isFinite && ty($0.y).isFinite }
        let xs = pts.map(\.x), ys = pts.map { ty($0.y) }
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1), (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 - x0 < 1e-12 { x0 -= 0.5; x1 += 0.5 }
        if y1 - y0 < 1e-12 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad; y1 += pad
        let legendRows = series.count
        let left = 56, right = width - 12, top = 18, bottom = height - 30 - 8 * legendRows
        guard bottom - top >= 40 else { throw DatasetError.invalidArgument(field: "series", message: "too many series for the height") }
        func put(_ x: Int, _ y: Int, _ c: (Float, Float, Float)) {
            guard x >= 0 && x < width && y >= 0 && y < height else { return }
            img[x, y, 0] = c.0; img[x, y, 1] = c.1; img[x, y, 2] = c.2
        }
        func px(_ x: Double) -> Int { left + Int(((x - x0) / (x1 - x0) * Double(right - left)).rounded()) }
        func py(_ y: Double) -> Int { bottom - Int(((y - y0) / (y1 - y0) * Double(bottom - top)).rounded()) }
        let black: (Float, Float, Float) = (0, 0, 0), grey: (Float, Float, Float) = (0.85, 0.85, 0.85)
        // Grid at quarters, then the axes.
        for q in 1...3 {
            let gy = top + (bottom - top) * q / 4, gx = left + (right - left) * q / 4
            for x in left...right where x % 3 == 0 { put(x, gy, grey) }
            for y in top...bottom where y % 3 == 0 { put(gx, y, grey) }
        }
        for x in left...right { put(x, bottom, black) }
        for y in top...bottom { put(left, y, black) }
        func label(_ v: Double) -> String {
            let a = abs(v)
            if a != 0 && (a >= 1e5 || a < 1e-2) { return String(format: "%.1e", v) }
            return a >= 100 ? String(format: "%.0f", v) : (a >= 10 ? String(format: "%.1f", v) : String(format: "%.2f", v))
        }
        func text(_ s: String, _ x: Int, _ y: Int) { BitmapFont.draw(s, into: &img, x: x, y: y, scale: 1, value: 0) }
        // Axis end values (y shown in its own units even on a log axis), names and title.
        let yTop = logY ? pow(10, y1) : y1, yBottom = logY ? pow(10, y0) : y0
        text(label(yTop), 2, top - 2)
        text(label(yBottom), 2, bottom - 4)
        text(label(x0), left - 4, bottom + 4)
        let xr = label(x1)
        text(xr, right - 4 * xr.count, bottom + 4)
        text(xLabel, (left + right) / 2 - 2 * xLabel.count, bottom + 4)
        text(yLabel + (logY ? " (LOG)" : ""), 2, (top + bottom) / 2)
        text(title, left, 4)
        // Curves with point markers.
        for (k, s) in series.enumerated() {
            let c = palette[k % palette.count]
            let ps = s.points.filter { $0.x.isFinite && ty($0.y).isFinite }.map { (px($0.x), py(ty($0.y))) }
            for (i, p) in ps.enumerated() {
                for dy in -1...1 { for dx in -1...1 { put(p.0 + dx, p.1 + dy, c) } }
                guard i > 0 else { continue }
                let q = ps[i - 1], n = max(abs(p.0 - q.0), abs(p.1 - q.1), 1)
                for t in 0...n { put(q.0 + (p.0 - q.0) * t / n, q.1 + (p.1 - q.1) * t / n, c) }
            }
            // Legend row: swatch and name.
            let ly = bottom + 14 + 8 * k
            for dy in 0..<5 { for dx in 0..<10 { put(left + dx, ly + dy, c) } }
            text(s.name, left + 14, ly)
        }
        return img
    }
}
