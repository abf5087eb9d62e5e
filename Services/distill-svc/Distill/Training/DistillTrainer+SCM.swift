import ComputeCore
import FlowGen
import Glibc

/// The terms of one sCM step (Lu & Song 2024, Alg. 1), all [B, T, C] except `tau`.
public struct SCMTerms {
    /// TrigFlow times. [B]
    public let tau: [Float]
    /// x_τ = cos τ·x0 + sin τ·σ_d·ε.
    public let x: Tensor
    /// Guided teacher PF-ODE velocity dx_τ/dτ = σ_d·F_teacher(x_τ, τ).
    public let dxdt: Tensor
    /// Student F_θ(x_τ, τ), taped in the student's parameters.
    public let F: Tensor
    /// Total derivative dF_θ⁻/dτ along the teacher's ODE (forward-mode JVP with tangents (dx_τ/dτ, 1)).
    public let dFdt: Tensor
    /// The raw tangent g = -cos²τ·(σ_d F⁻ - dx_τ/dτ) - r·cos τ sin τ·(x_τ + σ_d dF⁻/dτ) (= r-weighted cos τ·df/dτ).
    public let g: Tensor
}

extension DistillTrainer {
    /// Student F_θ(x_τ, τ) via the TrigFlow conversion of its flow velocity.
    public func studentF(_ x: Tensor, tau: Tensor, text: TextContext) -> Tensor {
        TrigFlow.F(x, tau: tau, sigmaD: config.sigmaD) { student.net($0, t: $1, text: text) }
    }

    /// Teacher dx_τ/dτ = σ_d·F_teacher(x_τ, τ) with guidance. x [B, T, C], tau [B] -> [B, T, C]
    public func teacherTrigVelocity(_ x: Tensor, tau: Tensor, text: TextContext) -> Tensor {
        withNoGrad {
            (TrigFlow.F(x, tau: tau, sigmaD: config.sigmaD) { teacher.velocity($0, t: $1, text: text) } * config.sigmaD).detached()
        }
    }

    /// sCM terms at given (x0, ε, τ) with tangent warm-up factor `r`.
    public func scmTerms(x0: Tensor, eps: Tensor, tau: [Float], text: TextContext, r: Float) -> SCMTerms {
        let B = x0.shape[0], sd = config.sigmaD
        let x = TrigFlow.interpolate(x0, eps, tau: tau, sigmaD: sd)
        let tauT = Tensor(tau, shape: [B])
        let dxdt = teacherTrigVelocity(x, tau: tauT, text: text)
        let (F, dF) = jvp([x, tauT], [dxdt, Tensor.ones([B])]) { a in studentF(a[0], tau: a[1], text: text) }
        let g = withNoGrad { () -> Tensor in
            let c = PerSample.column(tau.map { cosf($0) }), s = PerSample.column(tau.map { sinf($0) })
            let Fm = F.detached()
            return ((c * c) * (Fm * sd - dxdt) * -1 - (c * s) * (x + dF * sd) * r).detached()
        }
        return SCMTerms(tau: tau, x: x, dxdt: dxdt, F: F, dFdt: dF, g: g)
    }

    /// One sCM loss: e^{-w(τ)}·‖F_θ - F_θ⁻ - ĝ‖²/D + w(τ), ĝ = g/(‖g‖ + c) per sample.
    /// -> (loss, RMS of the raw tangent, warm-up r)
    func scmLoss(x0: Tensor, text: TextContext, rng: inout RNG) -> (Tensor, Float, Float) {
        let B = x0.shape[0], D = x0.count / B
        let tau = (0..<B).map { _ in TrigFlow.sampleTau(rng.normal(), mean: config.tauMean, std: config.tauStd, sigmaD: config.sigmaD) }
        let eps = rng.normal(x0.shape)
        let r = warmupFactor
        let terms = scmTerms(x0: x0, eps: eps, tau: tau, text: text, r: r)
        let norms = PerSample.norms(terms.g)
        let gHat = terms.g * PerSample.column(norms.map { 1 / ($0 + config.tangentNormC) })
        let per = (terms.F - terms.F.detached() - gHat).square().mean(axes: [1, 2])          // [B]
        let w = student.logVariance(Tensor(tau, shape: [B]))                                  // [B]
        let loss = ((w * -1).exp() * per + w).mean()
        let rms = norms.reduce(0, +) / Float(B) / Float(D).squareRoot()
        return (loss, rms, r)
    }
}
