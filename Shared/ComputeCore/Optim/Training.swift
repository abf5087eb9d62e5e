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

/// Linear warm-up then cosine decay from `baseLR` to `minLR` at `totalSteps`.
public struct CosineSchedule: Sendable {
    public var baseLR: Float, minLR: Float
    public var warmupSteps: Int, totalSteps: Int
    public init(baseLR: Float, warmupSteps: Int, totalSteps: Int, minLR: Float = 0) {
        precondition(totalSteps > 0 && warmupSteps >= 0, "CosineSchedule: totalSteps > 0, warmupSteps >= 0")
        self.baseLR = baseLR; self.minLR = minLR; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
    }
    /// Learning rate at 0-based `step`.
    public func lr(at step: Int) -> Float {
        if step < warmupSteps { return baseLR * Float(step + 1) / Float(warmupSteps) }
        let span = Swift.max(totalSteps - warmupSteps, 1)
        let p = Swift.min(Float(step - warmupSteps) / Float(span), 1)
        return minLR + (baseLR - minLR) * 0.5 * (1 + cosf(Float.pi * p))
    }
    /// Generic cosine ramp from `start` to `end` (momentum / temperature schedules).
    public static func cosine(from start: Float, to end: Float, step: Int, total: Int) -> Float {
        let p = Swift.min(Float(step) / Float(Swift.max(total, 1)), 1)
        return end + (start - end) * 0.5 * (1 + cosf(Float.pi * p))
    }
}

/// Gradient utilities.
public enum Gradients {
    /// Global L2 norm of the gradients of `params`.
    public static func norm(_ params: [Tensor]) -> Float {
        var s: Double = 0
        for p in params { if let g = p.grad { for j in 0..<g.count { s += Double(g.ptr[j]) * Double(g.ptr[j]) } } }
        return Float(s.squareRoot())
    }
    /// Scales gradients so their global norm is at most `maxNorm`; returns the norm before clipping.
    @discardableResult
    public static func clipNorm(_ params: [Tensor], maxNorm: Float) -> Float {
        let n = norm(params)
        if n > maxNorm { scale(params, by: maxNorm / (n + 1e-6)) }
        return n
    }
    /// Multiplies every gradient by `s` (e.g. 1/k after accumulating k micro-batches).
    public static func scale(_ params: [Tensor], by s: Float) {
        for p in params {
            guard let g = p.grad else { continue }
            let owned = g.copy()
            Kernels.scale(owned.ptr, s, owned.ptr, owned.count)
            p.grad = owned
            p.gradOwned = true
        }
    }
}
