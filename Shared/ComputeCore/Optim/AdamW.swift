import Glibc

/// AdamW (Loshchilov & Hutter), PyTorch semantics: p -= lr*wd*p, then the bias-corrected
/// Adam step p -= lr * m̂ / (sqrt(v̂) + eps).
public final class AdamW: Optimizer {
    public let params: [Tensor]
    public var lr: Float
    public var beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    var m: [Tensor], v: [Tensor]
    public internal(set) var stepCount = 0

    public init(_ params: [Tensor], lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                eps: Float = 1e-8, weightDecay: Float = 0.01) {
        precondition(lr >= 0, "AdamW: lr must be >= 0, got \(lr)")
        self.params = params
        self.lr = lr; beta1 = betas.0; beta2 = betas.1; self.eps = eps; self.weightDecay = weightDecay
        m = params.map { Tensor.zeros($0.shape) }
        v = params.map { Tensor.zeros($0.shape) }
    }

    public func step() {
        stepCount += 1
        let bc1 = 1 - powf(beta1, Float(stepCount)), bc2 = 1 - powf(beta2, Float(stepCount))
        let b1 = beta1, b2 = beta2, eps = eps
        let stepSize = lr / bc1, decay = 1 - lr * weightDecay, invSqrtBc2 = 1 / sqrtf(bc2)
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            let pp = p.ptr, gp = g.ptr, mp = m[i].ptr, vp = v[i].ptr
            parallelRange(p.count, cost: 8) { s, e in
                for j in s..<e {
                    let gj = gp[j]
                    let mj = b1 * mp[j] + (1 - b1) * gj
                    let vj = b2 * vp[j] + (1 - b2) * gj * gj
                    mp[j] = mj; vp[j] = vj
                    pp[j] = pp[j] * decay - stepSize * mj / (sqrtf(vj) * invSqrtBc2 + eps)
                }
            }
        }
    }
}
