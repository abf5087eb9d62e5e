import ComputeCore
import FlowGen

/// A few-step student: the teacher's architecture (`FlowGenDiT`) initialised from its weights,
/// with the time-input scale of the run, plus per method:
/// - sCM: `logVar`, the adaptive log-variance weighting w(τ) = Linear(sinusoidal(τ)) (sCM §4.3);
///   the network stays a flow-velocity model (`TrigFlow` converts).
/// - MeanFlow: `intervalEmbed`, a clone of the teacher's timestep embedder that embeds t - r and
///   is added to the conditioning; its output layer starts at zero so the untrained student equals
///   the teacher at r = t.
///
/// Names: `net.*`, `interval.*` (MeanFlow), `logvar.*` (sCM).
public final class DistillStudent: Module {
    public let method: DistillMethod
    public let net: FlowGenDiT
    public let intervalEmbed: TimestepEmbedding?
    public let logVar: Linear?
    /// Width of the sinusoidal features of τ fed to `logVar`.
    public static let logVarFeatures = 16

    /// A fresh (random) student for `model` (the teacher's config with the run's time scale).
    public init(method: DistillMethod, model: FlowGenModelConfig, seed: UInt64) {
        self.method = method
        net = FlowGenDiT(model, seed: seed)
        var rng = RNG(seed: seed &+ 17)
        switch method {
        case .scm:
            intervalEmbed = nil
            let l = Linear(Self.logVarFeatures, 1, rng: &rng)
            l.weight.fill(0); l.bias?.fill(0)
            logVar = l
        case .meanflow:
            intervalEmbed = TimestepEmbedding(model.width, frequencyDim: model.timeFrequencyDim,
                                              inputScale: model.timeInputScale, rng: &rng)
            logVar = nil
        }
    }

    /// The student of `teacher` for `config`: same architecture, teacher weights, the run's time scale.
    public static func from(teacher: FlowGenDiT, config: DistillConfig) throws -> DistillStudent {
        var mc = teacher.config
        mc.timeInputScale = config.timeInputScale
        let s = DistillStudent(method: config.method, model: mc, seed: config.seed)
        try s.net.load(teacher.stateDict())
        if let ie = s.intervalEmbed {
            try ie.load(teacher.timeEmbed.stateDict())
            ie.mlp.fc2.weight.fill(0); ie.mlp.fc2.bias?.fill(0)
        }
        for p in s.parameters() { p.requiresGrad = true }
        return s
    }

    /// Flow velocity v(x_t, t) (sCM; also MeanFlow's u at r = t). x [B, T, C], t [B] -> [B, T, C]
    public func velocity(_ x: Tensor, t: Tensor, text: TextContext) -> Tensor {
        if method == .meanflow { return meanVelocity(x, r: t, t: t, text: text) }
        return net(x, t: t, text: text)
    }

    /// MeanFlow's average velocity u(z, r, t) over [r, t]. z [B, T, C], r, t [B] -> [B, T, C]
    public func meanVelocity(_ z: Tensor, r: Tensor, t: Tensor, text: TextContext) -> Tensor {
        guard let intervalEmbed else { preconditionFailure("meanVelocity needs a MeanFlow student") }
        return net(z, t: t, text: text, extraCond: intervalEmbed(t - r))
    }

    /// sCM's learned log-variance w(τ). tau [B] -> [B]
    public func logVariance(_ tau: Tensor) -> Tensor {
        guard let logVar else { preconditionFailure("logVariance needs an sCM student") }
        return logVar(TimestepEmbedding.sinusoidal(tau, dim: Self.logVarFeatures)).reshaped([tau.count])
    }

    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([], [("net", net), ("interval", intervalEmbed), ("logvar", logVar)])
    }
}
