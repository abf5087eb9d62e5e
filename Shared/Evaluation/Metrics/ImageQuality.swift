import Datasets
import Foundation

/// Reconstruction metrics on images in [0, 1].
public enum ImageQuality {
    /// Peak signal-to-noise ratio in dB with peak 1: 10 log10(1 / MSE); +infinity when identical.
    public static func psnr(_ a: ImageBuffer, _ b: ImageBuffer) throws -> Double {
        try checkSameShape(a, b)
        var mse = 0.0
        for i in 0..<a.pixels.count { let d = Double(a.pixels[i] - b.pixels[i]); mse += d * d }
        mse /= Double(a.pixels.count)
        return mse == 0 ? .infinity : 10 * log10(1 / mse)
    }

    /// Structural similarity (Wang et al. 2004): 11x11 Gaussian window (sigma 1.5), K1 = 0.01,
    /// K2 = 0.03, dynamic range 1, valid positions only, averaged over positions and channels.
    /// Images smaller than the window use a window of their smaller side.
    public static func ssim(_ a: ImageBuffer, _ b: ImageBuffer) throws -> Double {
        try checkSameShape(a, b)
        let win = min(11, min(a.width, a.height))
        let sigma = 1.5 * Double(win) / 11
        var g = (0..<win).map { i -> Double in let x = Double(i) - Double(win - 1) / 2; return exp(-x * x / (2 * sigma * sigma)) }
        let gs = g.reduce(0, +)
        g = g.map { $0 / gs }
        let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
        let oh = a.height - win + 1, ow = a.width - win + 1
        var total = 0.0
        for c in 0..<a.channels {
            func plane(_ img: ImageBuffer, _ f: (Double, Double) -> Double, _ other: ImageBuffer) -> [Double] {
                (0..<(img.width * img.height)).map { i in
                    f(Double(img.pixels[i * img.channels + c]), Double(other.pixels[i * other.channels + c]))
                }
            }
            let maps = [plane(a, { x, _ in x }, b), plane(a, { _, y in y }, b), plane(a, { x, _ in x * x }, b),
                        plane(a, { _, y in y * y }, b), plane(a, { x, y in x * y }, b)]
            // Separable Gaussian filtering, valid region.
            let filtered = maps.map { m -> [Double] in
                var horiz = [Double](repeating: 0, count: a.height * ow)
                for y in 0..<a.height { for x in 0..<ow {
                    var s = 0.0
                    for k in 0..<win { s += g[k] * m[y * a.width + x + k] }
                    horiz[y * ow + x] = s
                } }
                var out = [Double](repeating: 0, count: oh * ow)
                for y in 0..<oh { for x in 0..<ow {
                    var s = 0.0
                    for k in 0..<win { s += g[k] * horiz[(y + k) * ow + x] }
                    out[y * ow + x] = s
                } }
                return out
            }
            var sum = 0.0
            for i in 0..<(oh * ow) {
                let mx = filtered[0][i], my = filtered[1][i]
                let vx = filtered[2][i] - mx * mx, vy = filtered[3][i] - my * my, cxy = filtered[4][i] - mx * my
                sum += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
            }
            total += sum / Double(oh * ow)
        }
        return total / Double(a.channels)
    }

    static func checkSameShape(_ a: ImageBuffer, _ b: ImageBuffer) throws {
        guard a.width == b.width, a.height == b.height, a.channels == b.channels else {
            throw EvaluationError.invalidArgument(
                field: "images", message: "shapes differ: \(a.width)x\(a.height)x\(a.channels) vs \(b.width)x\(b.height)x\(b.channels)")
        }
    }
}
