import Glibc

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
