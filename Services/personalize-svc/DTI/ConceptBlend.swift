import Foundation

/// Spherical interpolation between two learned concept directions (METHODS.md §4: slerp × m*).
public enum ConceptBlend {
    /// v / ‖v‖. [D]
    public static func normalized(_ v: [Float]) -> [Float] {
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / max(n, 1e-12) }
    }

    /// Unit-sphere slerp between the directions of `a` and `b` at t in [0, 1] (t = 0 gives â, t = 1
    /// gives b̂; nearly parallel directions fall back to normalised linear interpolation). [D]
    public static func slerp(_ a: [Float], _ b: [Float], t: Float) -> [Float] {
        precondition(a.count == b.count, "slerp: widths \(a.count) != \(b.count)")
        let u = normalized(a), w = normalized(b)
        let dot = max(-1, min(1, zip(u, w).reduce(0) { $0 + $1.0 * $1.1 }))
        let theta = acosf(dot)
        if theta < 1e-4 { return normalized(zip(u, w).map { (1 - t) * $0 + t * $1 }) }
        let s = sinf(theta), ca = sinf((1 - t) * theta) / s, cb = sinf(t * theta) / s
        return normalized(zip(u, w).map { ca * $0 + cb * $1 })
    }

    /// The blended token embedding m*·slerp(â, b̂, t): norm m* for every t. [D]
    public static func blend(_ a: [Float], _ b: [Float], t: Float, norm mStar: Float) -> [Float] {
        slerp(a, b, t: t).map { $0 * mStar }
    }
}
