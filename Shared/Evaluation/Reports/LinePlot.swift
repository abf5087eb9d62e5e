import Datasets
import Foundation

/// Minimal line charts for reports (no text: legends live in the markdown).
public enum LinePlot {
    /// Distinct colours, in legend order: blue, orange, green, red, purple, brown, pink, grey.
    public static let palette: [(Float, Float, Float)] = [
        (0.12, 0.47, 0.71), (1.0, 0.5, 0.05), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16),
        (0.58, 0.4, 0.74), (0.55, 0.34, 0.29), (0.89, 0.47, 0.76), (0.5, 0.5, 0.5),
    ]
    public static let paletteNames = ["blue", "orange", "green", "red", "purple", "brown", "pink", "grey"]

    /// Draws each series (y values at x = 0, 1, ...) on shared axes; `logY` plots log10(y).
    public static func draw(_ series: [[Double]], width: Int = 480, height: Int = 300, logY: Bool = false) throws -> ImageBuffer {
        var img = ImageBuffer(width: width, height: height, channels: 3, fill: 1)
        let ys = series.map { s in s.map { logY ? log10(max($0, 1e-8)) : $0 }.filter(\.isFinite) }
        let all = ys.flatMap { $0 }
        guard let lo = all.min(), let hi = all.max() else { return img }
        let span = max(hi - lo, 1e-9)
        let maxLen = max(2, series.map(\.count).max() ?? 2)
        let m = 20
        func put(_ x: Int, _ y: Int, _ c: (Float, Float, Float)) {
            guard x >= 0 && x < width && y >= 0 && y < height else { return }
            let o = (y * width + x) * 3
            img.pixels[o] = c.0; img.pixels[o + 1] = c.1; img.pixels[o + 2] = c.2
        }
        for x in m..<(width - m) { put(x, height - m, (0, 0, 0)) }
        for y in m..<(height - m) { put(m, y, (0, 0, 0)) }
        for (k, s) in ys.enumerated() {
            let c = palette[k % palette.count]
            var prev: (Int, Int)?
            for (i, v) in s.enumerated() {
                let px = m + Int(Double(i) / Double(maxLen - 1) * Double(width - 2 * m - 1))
                let py = height - m - Int((v - lo) / span * Double(height - 2 * m - 1))
                if let p = prev {
                    let n = max(abs(px - p.0), abs(py - p.1), 1)
                    for t in 0...n {
                        let x = p.0 + (px - p.0) * t / n, y = p.1 + (py - p.1) * t / n
                        put(x, y, c); put(x, y + 1, c)
                    }
                }
                prev = (px, py)
            }
        }
        return img
    }

    /// Moving average with window `w` (for noisy loss curves).
    public static func smoothed(_ s: [Double], window w: Int) -> [Double] {
        guard w > 1 else { return s }
        var out: [Double] = [], acc = 0.0
        for (i, v) in s.enumerated() {
            acc += v
            if i >= w { acc -= s[i - w] }
            out.append(acc / Double(min(i + 1, w)))
        }
        return out
    }
}
