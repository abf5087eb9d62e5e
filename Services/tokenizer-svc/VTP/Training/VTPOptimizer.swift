import ComputeCore
import Glibc

/// AdamW with inspectable state (moments and step count) so checkpoints can resume exactly.
/// PyTorch semantics: p -= lr·wd·p (matrices only), then the bias-corrected Adam step.
public final class VTPOptimizer {
    public let names: [String]
    public let params: [Tensor]
    public var lr: Float
    public let beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8
    public var weightDecay: Float
    public let m: [Tensor], v: [Tensor]
    public var stepCount = 0

    public init(_ named: [(String, Tensor)], lr: Float, weightDecay: Float) {
        names = named.map(\.0); params = named.map(\.1)
        self.lr = lr; self.weightDecay = weightDecay
        m = params.map { Tensor.zeros($0.shape) }
        v = params.map { Tensor.zeros($0.shape) }
    }

    /// One update from the parameters' gradients (parameters without a gradient are skipped).
    public func step() {
        stepCount += 1
        let bc1 = 1 - powf(beta1, Float(stepCount)), bc2 = 1 - powf(beta2, Float(stepCount))
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            let decay: Float = p.rank >= 2 ? 1 - lr * weightDecay : 1
            let pp = p.ptr, gp = g.ptr, mp = m[i].ptr, vp = v[i].ptr
            for j in 0..<p.count {
                let gj = gp[j]
                mp[j] = beta1 * mp[j] + (1 - beta1) * gj
                vp[j] = beta2 * vp[j] + (1 - beta2) * gj * gj
                pp[j] = pp[j] * decay - lr * (mp[j] / bc1) / (sqrtf(vp[j] / bc2) + eps)
            }
        }
    }

    /// Moments as named tensors for a checkpoint (`optim.m.<name>`, `optim.v.<name>`).
    public func state() -> [(String, Tensor)] {
        names.indices.flatMap { [("optim.m." + names[$0], m[$0]), ("optim.v." + names[$0], v[$0])] }
    }

    /// Restores moments from a checkpoint.
    public func load(_ state: [String: Tensor], stepCount: Int) throws {
        for (i, n) in names.enumerated() {
            guard let a = state["optim.m." + n], let b = state["optim.v." + n] else {
                throw MethodError.checkpoint("missing optimizer state for \(n)")
            }
            m[i].assign(a); v[i].assign(b)
        }
        self.stepCount = stepCount
    }
}
