/// Resizing a channel-major feature map to the token grid.
public enum FeatureGrid {
    /// map [C·h·w] (channel-major) -> tokens [grid²·C] (token-major, row-major grid). Each output
    /// cell averages the input cells it covers when h, w >= grid (exact area pooling when they
    /// divide), otherwise samples bilinearly at the cell centre (align_corners = false).
    public static func tokens(_ map: [Float], channels C: Int, height h: Int, width w: Int, grid g: Int) -> [Float] {
        precondition(map.count == C * h * w, "FeatureGrid: \(map.count) values for [\(C), \(h), \(w)]")
        var out = [Float](repeating: 0, count: g * g * C)
        for gy in 0..<g { for gx in 0..<g {
            let o = (gy * g + gx) * C
            if h >= g && w >= g {
                let y0 = gy * h / g, y1 = max(y0 + 1, (gy + 1) * h / g)
                let x0 = gx * w / g, x1 = max(x0 + 1, (gx + 1) * w / g)
                let n = Float((y1 - y0) * (x1 - x0))
                for c in 0..<C {
                    var s: Float = 0
                    for y in y0..<y1 { for x in x0..<x1 { s += map[(c * h + y) * w + x] } }
                    out[o + c] = s / n
                }
            } else {
                func coord(_ i: Int, _ n: Int) -> (Int, Int, Float) {
                    let f = min(max((Float(i) + 0.5) * Float(n) / Float(g) - 0.5, 0), Float(n - 1))
                    let lo = Int(f)
                    return (lo, min(lo + 1, n - 1), f - Float(lo))
                }
                let (ya, yb, fy) = coord(gy, h), (xa, xb, fx) = coord(gx, w)
                for c in 0..<C {
                    let base = c * h * w
                    let top = map[base + ya * w + xa] * (1 - fx) + map[base + ya * w + xb] * fx
                    let bottom = map[base + yb * w + xa] * (1 - fx) + map[base + yb * w + xb] * fx
                    out[o + c] = top * (1 - fy) + bottom * fy
                }
            }
        } }
        return out
    }
}
