import ComputeCore
import FlowGen
import Glibc

/// The terms of one MeanFlow step (Geng et al. 2025, Alg. 1), [B, T, C].
public struct MeanFlowTerms {
    /// Student average velocity u_θ(z, r, t), taped in the student's parameters.
    public let u: Tensor
    /// du/dt along (z, r, t) with tangents (v, 0, 1) (forward-mode JVP).
    public let dudt: Tensor
    /// The guided teacher velocity v at (z, t) (guidance mixed into the target).
    public let v: Tensor
    /// u_tgt = v - (t - r)·du/dt (stop-gradient).
    public let target: Tensor
}

extension DistillTrainer {
    /// (r, t) for one sample: two sorted logit-normal draws; r = t with probability `equalFraction`.
    public func sampleInterval(rng: inout RNG) -> (r: Float, t: Float) {
        func draw() -> Float { min(max(1 / (1 + expf(-(config.logitMean + config.logitStd * rng.normal()))), 1e-5), 1 - 1e-5) }
        let a = draw(), b = draw(), equal = rng.uniform() < config.equalFraction
        let t = max(a, b)
        return (equal ? t : min(a, b), t)
    }

    /// MeanFlow terms at z = (1 - t)·x0 + t·ε with per-sample r ≤ t.
    public func meanFlowTerms(x0: Tensor, eps: Tensor, r: [Float], t: [Float], text: TextContext) -> MeanFlowTerms {
        let B = x0.shape[0]
        let z = FlowSchedule.interpolate(x0, eps, t: t)
        let rT = Tensor(r, shape: [B]), tT = Tensor(t, shape: [B])
        let v = teacher.velocity(z, t: tT, text: text)
        let (u, dudt) = jvp([z, rT, tT], [v, Tensor.zeros([B]), Tensor.ones([B])]) { a in
            student.meanVelocity(a[0], r: a[1], t: a[2], text: text)
        }
        let target = withNoGrad { (v - PerSample.column(zip(t, r).map { $0 - $1 }) * dudt).detached() }
        return MeanFlowTerms(u: u, dudt: dudt, v: v, target: target)
    }

    /// One MeanFlow loss: mean_b sg(w_b)·‖Δ_b‖²/D, Δ = u - u_tgt, w_b = (‖Δ_b‖²/D + 1e-3)^(γ/2 - 1),
    /// i.e. the per-sample loss ‖Δ‖^γ. -> (loss, RMS of Δ, fraction with r ≠ t)
    func meanFlowLoss(x0: Tensor, text: TextContext, rng: inout RNG) -> (Tensor, Float, Float) {
        let B = x0.shape[0]
        let pairs = (0..<B).map { _ in sampleInterval(rng: &rng) }
        let eps = rng.normal(x0.shape)
        let terms = meanFlowTerms(x0: x0, eps: eps, r: pairs.map(\.r), t: pairs.map(\.t), text: text)
        let per = (terms.u - terms.target).square().mean(axes: [1, 2])                       // [B]
        let p = config.lossPower / 2 - 1
        let loss = p == 0 ? per.mean() : (per * Tensor(per.array.map { powf($0 + 1e-3, p) }, shape: [B])).mean()
        let rms = (per.array.reduce(0, +) / Float(B)).squareRoot()
        return (loss, rms, Float(pairs.filter { $0.r < $0.t }.count) / Float(B))
    }
}
