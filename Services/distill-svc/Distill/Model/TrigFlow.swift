import ComputeCore
import Glibc

/// TrigFlow (Lu & Song 2024, sCM §2) on top of the generator's linear flow (METHODS.md §6).
///
/// TrigFlow point: x_τ = cos τ·x0 + sin τ·σ_d·ε, τ ∈ [0, π/2], with PF-ODE dx_τ/dτ = σ_d·F(x_τ, τ).
/// It is the flow point x_t = (1 - t)·x0 + t·ε scaled by s = cos τ + σ_d·sin τ, at
/// t = σ_d·sin τ / s. So a flow velocity v(x_t, t) = ε̂ - x̂0 converts to
/// σ_d·F = -sin τ·x̂0 + σ_d·cos τ·ε̂ with x̂0 = x_t - t·v, ε̂ = x_t + (1 - t)·v. The consistency
/// function f = cos τ·x_τ - σ_d·sin τ·F then equals x̂0: a student kept in flow form is an sCM
/// student whose x0 prediction is made consistent.
public enum TrigFlow {
    /// Flow time of TrigFlow time τ: t = σ_d sin τ / (cos τ + σ_d sin τ).
    public static func flowTime(tau: Float, sigmaD: Float) -> Float {
        sigmaD * sinf(tau) / (cosf(tau) + sigmaD * sinf(tau))
    }

    /// TrigFlow time of flow time t: tan τ = t / (σ_d (1 - t)).
    public static func tau(flowTime t: Float, sigmaD: Float) -> Float { atan2f(t, sigmaD * (1 - t)) }

    /// τ = atan(exp(P)/σ_d), P ~ N(mean, std) from a standard normal draw n (sCM's proposal).
    public static func sampleTau(_ n: Float, mean: Float, std: Float, sigmaD: Float) -> Float {
        atanf(expf(mean + std * n) / sigmaD)
    }

    /// F(x_τ, τ) of a flow-velocity function, differentiable (and forward-differentiable) in x and τ.
    /// x [B, T, C] (TrigFlow scale), tau [B] -> F [B, T, C]; `velocity(x_t [B, T, C], t [B])`.
    public static func F(_ x: Tensor, tau: Tensor, sigmaD: Float, velocity: (Tensor, Tensor) -> Tensor) -> Tensor {
        let B = x.shape[0]
        let c = tau.cos().reshaped([B, 1, 1]), s = tau.sin().reshaped([B, 1, 1])
        let scale = c + s * sigmaD                                                   // [B, 1, 1]
        let t = s * sigmaD / scale                                                   // [B, 1, 1]
        let xt = x / scale                                                           // [B, T, C]
        let v = velocity(xt, t.reshaped([B]))
        let x0 = xt - t * v
        let eps = xt + (1 - t) * v
        return (eps * c * sigmaD - x0 * s) / sigmaD
    }

    /// x_τ = cos τ·x0 + sin τ·σ_d·ε per sample. x0, eps [B, ...], tau [B] -> [B, ...]
    public static func interpolate(_ x0: Tensor, _ eps: Tensor, tau: [Float], sigmaD: Float) -> Tensor {
        let B = x0.shape[0], shape = [B] + [Int](repeating: 1, count: x0.rank - 1)
        return x0 * Tensor(tau.map { cosf($0) }, shape: shape) + eps * Tensor(tau.map { sigmaD * sinf($0) }, shape: shape)
    }
}
