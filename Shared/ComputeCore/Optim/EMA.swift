import Glibc

/// Exponential moving average of parameters: shadow = m*shadow + (1-m)*param.
public final class EMA {
    public let source: [Tensor]
    /// The averaged copies (same order as `source`).
    public let shadow: [Tensor]
    public init(_ params: [Tensor]) {
        source = params
        shadow = params.map { $0.copy() }
    }
    /// Averages the current parameters in with momentum `m` (e.g. 0.999).
    public func update(momentum m: Float) {
        precondition(m >= 0 && m <= 1, "EMA: momentum must be in [0, 1], got \(m)")
        for (s, p) in zip(shadow, source) {
            let sp = s.ptr, pp = p.ptr
            parallelRange(s.count) { a, b in for j in a..<b { sp[j] = m * sp[j] + (1 - m) * pp[j] } }
        }
    }
    /// Writes the averaged values into `targets` (e.g. a teacher model's parameters).
    public func copy(into targets: [Tensor]) {
        for (s, t) in zip(shadow, targets) { t.assign(s) }
    }
}
