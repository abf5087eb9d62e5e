import ComputeCore
import Glibc

/// The linear flow between data and noise and its one timestep-shift function
/// (METHODS.md §2-§3; the same rule RecTok's tokenizer noise uses).
///
/// Convention: t = 0 is data, t = 1 is noise; x_t = (1 - t)·x0 + t·ε and the model predicts
/// the velocity v = dx_t/dt = ε - x0, so x0 = x_t - t·v.
public enum FlowSchedule {
    /// Timestep shift t' = s·t / (1 + (s - 1)·t) (SD3 / RecTok). Monotone, fixes 0 and 1; s > 1 moves
    /// mass toward noise, s < 1 toward data, s = 1 is the identity; shift(shift(t, a), b) = shift(t, a·b).
    public static func shift(_ t: Float, _ s: Float) -> Float { s * t / (1 + (s - 1) * t) }

    /// The resolution rule s = sqrt(N·C / base) for N tokens of C channels (base 4096, RecTok).
    public static func shiftFactor(tokens: Int, channels: Int, base: Float = 4096) -> Float {
        (Float(tokens * channels) / base).squareRoot()
    }

    /// Logit-normal draw shifted: t = shift(sigmoid(mean + std·n), s), clamped inside (0, 1).
    public static func sampleT(_ n: Float, mean: Float, std: Float, shift s: Float) -> Float {
        sampleUniformT(1 / (1 + expf(-(mean + std * n))), shift: s)
    }

    /// A draw u in [0, 1] shifted: t = shift(u, s), clamped inside (0, 1) (u uniform: RecTok's schedule).
    public static func sampleUniformT(_ u: Float, shift s: Float) -> Float {
        min(max(shift(u, s), 1e-5), 1 - 1e-5)
    }

    /// The sampling grid from noise to data: t_k = shift(1 - k/steps, s), k = 0...steps (steps + 1 values,
    /// t_0 = 1, t_steps = 0, strictly decreasing).
    public static func grid(steps: Int, shift s: Float) -> [Float] {
        precondition(steps >= 1, "grid needs at least one step")
        return (0...steps).map { k in k == steps ? 0 : shift(1 - Float(k) / Float(steps), s) }
    }

    /// x_t = (1 - t)·x0 + t·ε with per-sample t [B]. x0, eps [B, ...] -> [B, ...]
    public static func interpolate(_ x0: Tensor, _ eps: Tensor, t: [Float]) -> Tensor {
        let B = x0.shape[0]
        let tt = Tensor(t, shape: [B] + [Int](repeating: 1, count: x0.rank - 1))
        return x0 * (1 - tt) + eps * tt
    }

    /// Classifier-free guidance on every latent channel: v = v_u + w·(v_c - v_u).
    public static func guide(conditional vc: Tensor, unconditional vu: Tensor, scale w: Float) -> Tensor {
        vu + (vc - vu) * w
    }
}
