import Glibc

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
