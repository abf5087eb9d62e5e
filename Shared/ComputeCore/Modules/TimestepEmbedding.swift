import Glibc

/// Sinusoidal timestep features followed by a SiLU MLP (DiT, Peebles & Xie 2023, §3.2):
/// t [B] -> [B, dim]. `inputScale` multiplies t first (1000 reproduces the common "t x 1000"
/// convention; the few-step distillation study recommends 1). Differentiable in t, so JVPs
/// along t pass through it. Names `mlp.fc1`, `mlp.fc2`.
public final class TimestepEmbedding: Module {
    public let mlp: MLP
    public let frequencyDim: Int
    public let maxPeriod: Float
    public var inputScale: Float

    public init(_ dim: Int, frequencyDim: Int = 256, maxPeriod: Float = 10000, inputScale: Float = 1, rng: inout RNG) {
        precondition(frequencyDim % 2 == 0, "TimestepEmbedding: frequencyDim must be even, got \(frequencyDim)")
        mlp = MLP(frequencyDim, hidden: dim, out: dim, activation: .silu, rng: &rng)
        self.frequencyDim = frequencyDim; self.maxPeriod = maxPeriod; self.inputScale = inputScale
    }

    /// [cos(t·f_i), sin(t·f_i)] with f_i = maxPeriod^(-i/half), i < half: t [B] -> [B, dim].
    public static func sinusoidal(_ t: Tensor, dim: Int, maxPeriod: Float = 10000) -> Tensor {
        let half = dim / 2
        let f = Tensor(uninitialized: [1, half])
        for i in 0..<half { f.ptr[i] = expf(-logf(maxPeriod) * Float(i) / Float(half)) }
        let args = t.reshaped([t.count, 1]) * f
        return Tensor.concat([args.cos(), args.sin()], axis: 1)
    }

    public func callAsFunction(_ t: Tensor) -> Tensor {
        mlp(TimestepEmbedding.sinusoidal(t * inputScale, dim: frequencyDim, maxPeriod: maxPeriod))
    }
    public func namedParameters() -> [(String, Tensor)] { collectParameters([], [("mlp", mlp)]) }
}
