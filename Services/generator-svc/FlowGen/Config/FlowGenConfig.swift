import ComputeCore
import Foundation

/// Architecture of the text-conditioned DiT on a tokenizer's latent grid (METHODS.md §3).
public struct FlowGenModelConfig: Codable, Sendable, Equatable {
    /// Latent grid side (tokens per side; patch 1) and channels per token.
    public var grid: Int = 8
    public var latentChannels: Int = 4
    /// Width D, depth, heads, MLP ratio (GELU MLP).
    public var width: Int = 128
    public var depth: Int = 4
    public var heads: Int = 4
    public var mlpRatio: Float = 4
    /// Width of the frozen text token features (MiniLM: 384) and how many tokens a prompt keeps
    /// (padded or truncated to exactly this many, so a sample never depends on its batch).
    public var textDim: Int = 384
    public var textTokens: Int = 24
    /// Sinusoidal frequency width and the scale applied to t before it (t in [0, 1]; 1000 is the
    /// DiT convention, the distillation study feeds 1).
    public var timeFrequencyDim: Int = 256
    public var timeInputScale: Float = 1000
    /// Timestep shift s used by both training and the samplers (`FlowSchedule.shift`); 1 = none.
    public var shift: Float = 1
    public init() {}
    /// Tokens per latent (grid²).
    public var tokens: Int { grid * grid }
}

/// Optimisation and the flow-matching objective (METHODS.md §3: AdamW (0.9, 0.95), logit-normal t,
/// velocity MSE + optional cosine term, condition dropout 0.1 for classifier-free guidance, EMA).
public struct FlowGenTrainConfig: Codable, Sendable, Equatable {
    public var steps: Int = 1000
    public var batchSize: Int = 64
    public var lr: Float = 5e-4
    public var warmupSteps: Int = 50
    public var beta1: Float = 0.9
    public var beta2: Float = 0.95
    public var weightDecay: Float = 0
    public var gradClip: Float = 1
    /// EMA momentum of the weights used for sampling.
    public var emaDecay: Float = 0.999
    /// Probability that a sample's text is replaced by the learned null text.
    public var condDropout: Float = 0.1
    /// Weight of mean(1 - cos(v_hat, v)) next to the MSE (0 = MSE only).
    public var cosineWeight: Float = 0
    /// Logit-normal t (noise level; t = 1 is pure noise): t = sigmoid(mean + std·n).
    public var logitMean: Float = 0.5
    public var logitStd: Float = 1.25
    /// How t is drawn before the shift; nil = logit-normal (left out of the recorded JSON, so
    /// configurations from before this field keep their hash). `.uniform` for generators on RecTok
    /// latents (METHODS.md §2 "Generator side": t uniform, then the tokenizer's shift).
    public var timeSampling: FlowTimeSampling?
    public var seed: UInt64 = 0
    public var checkpointEvery: Int = 250
    public init() {}
}

/// The distribution of the flow-matching noise level t before the timestep shift.
public enum FlowTimeSampling: String, Codable, Sendable, CaseIterable {
    /// t = sigmoid(logitMean + logitStd·n), n ~ N(0, 1) (METHODS.md §3).
    case logitNormal = "logit-normal"
    /// t ~ U(0, 1) (METHODS.md §2, RecTok's generator).
    case uniform
}

/// A fully resolved generator configuration, recorded with every run and checkpoint.
public struct FlowGenConfig: RecordedConfig, Sendable, Equatable {
    public var preset: String
    public var model = FlowGenModelConfig()
    public var train = FlowGenTrainConfig()
    public init(preset: String) { self.preset = preset }

    /// Checks shapes and ranges; throws `MethodError.invalidConfig` naming the field and the limit.
    public func validate() throws {
        try MethodError.check(model.grid >= 1 && model.grid <= 64, "model.grid", "must be in 1...64, got \(model.grid)")
        try MethodError.check(model.latentChannels >= 1 && model.latentChannels <= 256, "model.latentChannels", "must be in 1...256")
        try MethodError.check(model.width >= 8 && model.width % model.heads == 0, "model.heads", "width \(model.width) must be >= 8 and divisible by heads \(model.heads)")
        try MethodError.check(model.depth >= 1 && model.depth <= 64, "model.depth", "must be in 1...64")
        try MethodError.check(model.textTokens >= 2 && model.textTokens <= 128, "model.textTokens", "must be in 2...128")
        try MethodError.check(model.shift > 0 && model.shift <= 100, "model.shift", "must be in (0, 100], got \(model.shift)")
        try MethodError.check(train.steps >= 1 && train.steps <= 10_000_000, "train.steps", "must be in 1...10000000, got \(train.steps)")
        try MethodError.check(train.batchSize >= 1 && train.batchSize <= 4096, "train.batchSize", "must be in 1...4096")
        try MethodError.check(train.condDropout >= 0 && train.condDropout < 1, "train.condDropout", "must be in [0, 1)")
        try MethodError.check(train.emaDecay >= 0 && train.emaDecay <= 1, "train.emaDecay", "must be in [0, 1]")
        try MethodError.check(train.lr > 0 && train.lr < 1, "train.lr", "must be in (0, 1)")
    }
}

