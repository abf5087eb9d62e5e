import ComputeCore
import FlowGen
import Foundation
import VTP

/// Architecture of the RecTok tokenizer (METHODS.md §2, "Tokenizer training"): a ViT encoder
/// that sees visible patches only and outputs a diagonal Gaussian per token, a pixel decoder
/// that reads the noisy masked latent, and a tiny semantic head on the same noisy latent.
public struct RecTokModelConfig: Codable, Sendable, Equatable {
    /// Image side in pixels and channels (3: every dataset is read as RGB).
    public var imageSize: Int = 32
    public var channels: Int = 3
    /// Patch side p; the token grid is (imageSize/p)².
    public var patchSize: Int = 4
    /// Encoder width D, depth, heads (head dim a multiple of 4 for 2-D RoPE), MLP ratio.
    public var width: Int = 64
    public var encoderDepth: Int = 2
    public var heads: Int = 4
    public var mlpRatio: Float = 4
    /// Latent width d per token (latent = [grid², d]); the experiment uses 8, 16 and 32.
    public var latentChannels: Int = 16
    /// Pixel decoder width and depth.
    public var decoderWidth: Int = 64
    public var decoderDepth: Int = 2
    /// Semantic head width and depth ("deliberately tiny": 3 blocks in the paper).
    public var semanticWidth: Int = 32
    public var semanticDepth: Int = 3
    public init() {}

    /// Tokens per side.
    public var grid: Int { imageSize / patchSize }
    /// Tokens per image T.
    public var tokens: Int { grid * grid }
    /// Values per patch (3·p²).
    public var patchDim: Int { channels * patchSize * patchSize }

    /// The same architecture in VTP's terms, for the shared building blocks (ViT encoder, pixel decoder).
    public var vtp: VTPModelConfig {
        var c = VTPModelConfig()
        c.imageSize = imageSize; c.channels = channels; c.patchSize = patchSize
        c.width = width; c.encoderDepth = encoderDepth; c.heads = heads; c.mlpRatio = mlpRatio
        c.latentChannels = latentChannels; c.decoderWidth = decoderWidth; c.decoderDepth = decoderDepth
        return c
    }
}

/// Which frozen network gives the semantic targets (METHODS.md §2: "say which in the run record").
public enum RecTokTeacherKind: String, Codable, Sendable, CaseIterable {
    /// EfficientNet-Lite0 feature maps after one MBConv stage, resized to the token grid.
    case efficientNetLite0 = "efficientnet-lite0"
    /// The patch tokens of a trained VTP tokenizer's trunk (`teacher.checkpoint`).
    case vtpTrunk = "vtp-trunk"
    /// A fixed random projection of each patch's pixels: offline and instant, for tests only.
    case patchProjection = "patch-projection"
}

/// The frozen teacher of the semantic head.
public struct RecTokTeacherConfig: Codable, Sendable, Equatable {
    public var kind: RecTokTeacherKind = .efficientNetLite0
    /// EfficientNet-Lite0 stage whose feature map is the target (1...8; 5 = 112 channels at stride 16).
    public var stage: Int = 5
    /// Input side the teacher sees (images are resized to it); 16·grid puts stage 5 on the token grid.
    public var resolution: Int = 128
    /// Output channels of the patch-projection teacher.
    public var projectionChannels: Int = 32
    /// The VTP checkpoint whose trunk is the teacher (kind `vtp-trunk` only).
    public var checkpoint: String? = nil
    public init() {}
}

/// Loss weights, masking and the latent flow noise (METHODS.md §2).
public struct RecTokLossConfig: Codable, Sendable, Equatable {
    /// Weight of the KL term of the diagonal Gaussian posterior.
    public var klWeight: Float = 1e-6
    /// λ_sem, weight of mean(1 - cos) of the semantic head (0 when FSD is off).
    public var semanticWeight: Float = 1
    /// Mask ratio per batch: max(0, U(maskRatioMin, maskRatioMax)).
    public var maskRatioMin: Float = -0.1
    public var maskRatioMax: Float = 0.4
    /// Scale γ of the flow noise ε on the latent (x_t = (1 - t) z + t γ ε); 0 disables the noise.
    public var noiseScale: Float = 1
    /// Timestep shift s of t = shift(u, s); nil = the resolution rule sqrt(T·d / 4096), the same
    /// rule and function (`FlowSchedule`) the generator trains with.
    public var shift: Float? = nil
    /// Log-variance clamp (LDM convention).
    public var logVarMin: Float = -30
    public var logVarMax: Float = 20
    public init() {}
}

/// Optimisation of both phases: joint training, then a decoder-only fine-tune on clean latents.
public struct RecTokTrainConfig: Codable, Sendable, Equatable {
    public var dataset: String = "fmnist-color"
    /// Phase 1 (joint) steps and phase 2 (decoder-only, clean latents) steps.
    public var steps: Int = 200
    public var decoderSteps: Int = 50
    public var batchSize: Int = 32
    public var lr: Float = 1e-3
    public var decoderLR: Float = 3e-4
    public var minLR: Float = 1e-5
    public var warmupSteps: Int = 20
    public var weightDecay: Float = 0.05
    public var gradClip: Float = 3
    public var seed: UInt64 = 0
    public var checkpointEvery: Int = 100
    /// Validation fraction of the train set (held out from training).
    public var validationFraction: Double = 0.1
    /// At most this many training images are used (0 = all).
    public var trainLimit: Int = 0
    public init() {}
}

/// A fully resolved RecTok configuration, recorded with every run and checkpoint.
public struct RecTokConfig: RecordedConfig, Sendable, Equatable {
    public var preset: String
    /// Flow semantic distillation on: the semantic head exists and λ_sem > 0.
    public var fsd: Bool
    /// Budget multiplier the step counts were scaled by.
    public var budget: Double = 1
    public var model = RecTokModelConfig()
    public var teacher = RecTokTeacherConfig()
    public var loss = RecTokLossConfig()
    public var train = RecTokTrainConfig()
    public init(preset: String, fsd: Bool) { self.preset = preset; self.fsd = fsd }

    /// The shift s of the latent noise schedule (explicit or the resolution rule on [T, d]).
    public var noiseShift: Float {
        loss.shift ?? FlowSchedule.shiftFactor(tokens: model.tokens, channels: model.latentChannels)
    }
    /// Total steps of both phases.
    public var totalSteps: Int { train.steps + train.decoderSteps }
    /// A name for the run's model: preset, latent width and FSD, e.g. `rectok-fmnistc32-s-d16-fsd`.
    public var modelName: String { "\(preset)-d\(model.latentChannels)-\(fsd ? "fsd" : "nofsd")" }

    /// Checks shapes and ranges; throws `MethodError.invalidConfig` naming the field and the limit.
    public func validate() throws {
        let m = model
        try MethodError.check(m.imageSize >= 8 && m.imageSize <= 256, "model.imageSize", "must be in 8...256, got \(m.imageSize)")
        try MethodError.check(m.patchSize >= 1 && m.imageSize % m.patchSize == 0, "model.patchSize",
                              "\(m.patchSize) must divide imageSize \(m.imageSize)")
        try MethodError.check(m.heads >= 1 && m.width % m.heads == 0 && (m.width / m.heads) % 4 == 0, "model.heads",
                              "width/heads must be a multiple of 4 (2-D RoPE), got \(m.width)/\(m.heads)")
        try MethodError.check(m.decoderWidth % m.heads == 0 && (m.decoderWidth / m.heads) % 4 == 0, "model.decoderWidth",
                              "decoderWidth/heads must be a multiple of 4, got \(m.decoderWidth)/\(m.heads)")
        try MethodError.check(m.semanticWidth % m.heads == 0 && (m.semanticWidth / m.heads) % 4 == 0, "model.semanticWidth",
                              "semanticWidth/heads must be a multiple of 4, got \(m.semanticWidth)/\(m.heads)")
        try MethodError.check(m.latentChannels >= 1 && m.latentChannels <= 256, "model.latentChannels",
                              "must be in 1...256, got \(m.latentChannels)")
        try MethodError.check(m.encoderDepth >= 1 && m.encoderDepth <= 32, "model.encoderDepth", "must be in 1...32, got \(m.encoderDepth)")
        try MethodError.check(m.decoderDepth >= 1 && m.decoderDepth <= 32, "model.decoderDepth", "must be in 1...32, got \(m.decoderDepth)")
        try MethodError.check(m.semanticDepth >= 1 && m.semanticDepth <= 8, "model.semanticDepth", "must be in 1...8, got \(m.semanticDepth)")
        try MethodError.check((1...8).contains(teacher.stage), "teacher.stage", "must be in 1...8, got \(teacher.stage)")
        try MethodError.check(teacher.resolution >= 32 && teacher.resolution <= 512, "teacher.resolution",
                              "must be in 32...512, got \(teacher.resolution)")
        try MethodError.check(teacher.kind != .vtpTrunk || !(teacher.checkpoint ?? "").isEmpty, "teacher.checkpoint",
                              "must name a VTP checkpoint when teacher.kind is vtp-trunk")
        try MethodError.check(teacher.projectionChannels >= 1 && teacher.projectionChannels <= 1024, "teacher.projectionChannels",
                              "must be in 1...1024, got \(teacher.projectionChannels)")
        let l = loss
        try MethodError.check(l.klWeight >= 0 && l.klWeight <= 1, "loss.klWeight", "must be in [0, 1], got \(l.klWeight)")
        try MethodError.check(l.semanticWeight >= 0 && l.semanticWeight <= 100, "loss.semanticWeight",
                              "must be in [0, 100], got \(l.semanticWeight)")
        try MethodError.check(fsd || l.semanticWeight == 0, "loss.semanticWeight", "must be 0 when fsd is off, got \(l.semanticWeight)")
        try MethodError.check(l.maskRatioMin >= -1 && l.maskRatioMin <= l.maskRatioMax, "loss.maskRatioMin",
                              "must be in [-1, maskRatioMax \(l.maskRatioMax)], got \(l.maskRatioMin)")
        try MethodError.check(l.maskRatioMax >= 0 && l.maskRatioMax < 1, "loss.maskRatioMax", "must be in [0, 1), got \(l.maskRatioMax)")
        try MethodError.check(l.noiseScale >= 0 && l.noiseScale <= 10, "loss.noiseScale", "must be in [0, 10], got \(l.noiseScale)")
        if let s = l.shift { try MethodError.check(s > 0 && s <= 100, "loss.shift", "must be in (0, 100], got \(s)") }
        try MethodError.check(l.logVarMin < l.logVarMax, "loss.logVarMin", "must be below logVarMax \(l.logVarMax)")
        let t = train
        try MethodError.check(t.steps >= 1 && t.steps <= 10_000_000, "train.steps", "must be in 1...10000000, got \(t.steps)")
        try MethodError.check(t.decoderSteps >= 0 && t.decoderSteps <= 10_000_000, "train.decoderSteps",
                              "must be in 0...10000000, got \(t.decoderSteps)")
        try MethodError.check(t.batchSize >= 1 && t.batchSize <= 1024, "train.batchSize", "must be in 1...1024, got \(t.batchSize)")
        try MethodError.check(t.lr > 0 && t.lr < 1, "train.lr", "must be in (0, 1), got \(t.lr)")
        try MethodError.check(t.decoderLR > 0 && t.decoderLR < 1, "train.decoderLR", "must be in (0, 1), got \(t.decoderLR)")
        try MethodError.check(t.warmupSteps >= 0, "train.warmupSteps", "must be >= 0, got \(t.warmupSteps)")
        try MethodError.check(t.validationFraction > 0 && t.validationFraction < 1, "train.validationFraction",
                              "must be in (0, 1), got \(t.validationFraction)")
        try MethodError.check(budget > 0 && budget <= 1000, "budget", "must be in (0, 1000], got \(budget)")
    }
}
