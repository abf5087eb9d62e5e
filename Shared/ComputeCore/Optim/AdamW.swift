import Glibc

/// A first-order optimiser over a fixed list of parameters.
public protocol Optimizer: AnyObject {
    var lr: Float { get set }
    /// Applies one update from the parameters' current `grad` (parameters without grad are skipped).
    func step()
}

extension Optimizer {
    /// Clears the gradients of `params`.
    public static func zeroGrad(_ params: [Tensor]) { for p in params { p.zeroGrad() } }
}

/// AdamW (Loshchilov & Hutter), PyTorch semantics: p -= lr*wd*p, then the bias-corrected
/// Adam step p -= lr * m̂ / (sqrt(v̂) + eps).
public final class AdamW: Optimizer {
    public let params: [Tensor]
    public var lr: Float
    public var beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    var m: [Tensor], v: [Tensor]
    public private(set) var stepCount = 0

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

/// SGD with momentum (PyTorch semantics: buf = mu*buf + g (buf = g at first), p -= lr*buf;
/// L2 weight decay adds wd*p to g).
public final class SGD: Optimizer {
    public let params: [Tensor]
    public var lr: Float
    public var momentum: Float, weightDecay: Float, nesterov: Bool
    var buf: [Tensor?]

    public init(_ params: [Tensor], lr: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.params = params; self.lr = lr; self.momentum = momentum
        self.weightDecay = weightDecay; self.nesterov = nesterov
        buf = params.map { _ in nil }
    }

    public func step() {
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            let d = Tensor(uninitialized: p.shape)
            for j in 0..<p.count { d.ptr[j] = g.ptr[j] + weightDecay * p.ptr[j] }
            var upd = d
            if momentum != 0 {
                if let b = buf[i] {
                    for j in 0..<p.count { b.ptr[j] = momentum * b.ptr[j] + d.ptr[j] }
                } else { buf[i] = d.copy() }
                let b = buf[i]!
                if nesterov {
                    upd = Tensor(uninitialized: p.shape)
                    for j in 0..<p.count { upd.ptr[j] = d.ptr[j] + momentum * b.ptr[j] }
                } else { upd = b }
            }
            for j in 0..<p.count { p.ptr[j] -= lr * upd.ptr[j] }
        }
    }
}

/// Riemannian SGD on the unit sphere (per row along the last axis), as in Directional
/// Textual Inversion (arXiv 2512.13672, Alg. 1):
///   g = dL/dv - kappa*mu;  g -= <g, v> v;  g /= (||g|| + 1e-8) (if normalizeStep);
///   v = normalize(v - lr * g).
public final class RiemannianSGD: Optimizer {
    public let params: [Tensor]
    public var lr: Float
    /// vMF prior mean direction per parameter (same shape) and concentration.
    public var priorMean: [Tensor?]
    public var kappa: Float
    public var normalizeStep: Bool

    public init(_ params: [Tensor], lr: Float, kappa: Float = 0, priorMean: [Tensor?]? = nil,
                normalizeStep: Bool = true) {
        self.params = params; self.lr = lr; self.kappa = kappa
        self.priorMean = priorMean ?? params.map { _ in nil }
        self.normalizeStep = normalizeStep
        precondition(self.priorMean.count == params.count, "RiemannianSGD: one prior mean per parameter")
    }

    /// Projects each row of `p` onto the unit sphere in place.
    public static func normalizeRows(_ p: Tensor) {
        let d = p.shape.last ?? 1
        for r in 0..<(p.count / d) {
            let x = p.ptr + r * d
            var s: Float = 0
            for j in 0..<d { s += x[j] * x[j] }
            let inv = 1 / Swift.max(sqrtf(s), 1e-12)
            for j in 0..<d { x[j] *= inv }
        }
    }

    public func step() {
        for (i, p) in params.enumerated() {
            guard let grad = p.grad else { continue }
            let d = p.shape.last ?? 1
            for r in 0..<(p.count / d) {
                let v = p.ptr + r * d, gr = grad.ptr + r * d
                var g = [Float](repeating: 0, count: d)
                for j in 0..<d { g[j] = gr[j] - kappa * (priorMean[i].map { $0.ptr[r * d + j] } ?? 0) }
                var dot: Float = 0
                for j in 0..<d { dot += g[j] * v[j] }
                for j in 0..<d { g[j] -= dot * v[j] }
                if normalizeStep {
                    var n: Float = 0
                    for j in 0..<d { n += g[j] * g[j] }
                    let inv = 1 / (sqrtf(n) + 1e-8)
                    for j in 0..<d { g[j] *= inv }
                }
                for j in 0..<d { v[j] -= lr * g[j] }
            }
            RiemannianSGD.normalizeRows(p)
        }
    }
}
