import ComputeCore
import Datasets
import Foundation

/// Which objectives a tokenizer trains with (METHODS.md §1, "the experiment that proves it").
public enum VTPVariant: String, Codable, Sendable, CaseIterable {
    case ae, clipAE = "clip-ae", sslAE = "ssl-ae", vtp
    /// Image-text contrastive head active.
    public var usesCLIP: Bool { self == .clipAE || self == .vtp }
    /// DINO + iBOT self-distillation active.
    public var usesSSL: Bool { self == .sslAE || self == .vtp }
}

/// Architecture of the ViT autoencoder and its heads (METHODS.md §1, "Architecture").
public struct VTPModelConfig: Codable, Sendable, Equatable {
    /// Image side in pixels and channels (3: every dataset is read as RGB).
    public var imageSize: Int = 32
    public var channels: Int = 3
    /// Patch side p; the token grid is (imageSize/p)².
    public var patchSize: Int = 4
    /// Trunk width D, encoder depth, heads (head dim must be a multiple of 4 for 2-D RoPE).
    public var width: Int = 64
    public var encoderDepth: Int = 2
    public var heads: Int = 4
    public var mlpRatio: Float = 4
    /// Bottleneck channels d (latent = [grid, grid, d]).
    public var latentChannels: Int = 4
    /// Pixel decoder: width and depth of its ViT blocks.
    public var decoderWidth: Int = 64
    public var decoderDepth: Int = 1
    /// CLIP embedding width e.
    public var clipDim: Int = 64
    /// DINO head: MLP hidden width, bottleneck width, prototypes K.
    public var dinoHidden: Int = 128
    public var dinoBottleneck: Int = 32
    public var prototypes: Int = 256
    /// Width of the frozen text embedding (MiniLM: 384).
    public var textDim: Int = 384
    public init() {}
    /// Tokens per side.
    public var grid: Int { imageSize / patchSize }
    /// Values per patch (3·p²).
    public var patchDim: Int { channels * patchSize * patchSize }
}

/// Loss weights and SSL hyper-parameters (METHODS.md §1, "Losses"; DINOv2 defaults).
public struct VTPLossConfig: Codable, Sendable, Equatable {
    public var recWeight: Float = 0.1
    public var clipWeight: Float = 1
    public var dinoWeight: Float = 1
    public var ibotWeight: Float = 1
    /// Reconstruction: "l1+l2" (default), "l1" or "l2".
    public var recKind: String = "l1+l2"
    public var studentTemp: Float = 0.1
    public var teacherTempStart: Float = 0.04
    public var teacherTempEnd: Float = 0.07
    /// Fraction of training over which the teacher temperature warms up.
    public var teacherTempWarmupFraction: Float = 0.3
    public var centerMomentum: Float = 0.9
    public var emaMomentumStart: Float = 0.992
    public var emaMomentumEnd: Float = 1
    /// iBOT mask ratio range and the fraction of images that get masked.
    public var maskRatioMin: Float = 0.1
    public var maskRatioMax: Float = 0.5
    public var maskedImageFraction: Float = 0.5
    /// CLIP logit scale init log(1/0.07) and clamp.
    public var logitScaleInit: Float = 2.6592600
    public var logitScaleMax: Float = 4.6051702
    public init() {}
}

/// Optimisation, batching and data (METHODS.md §1, "Balanced batch").
public struct VTPTrainConfig: Codable, Sendable, Equatable {
    public var dataset: String = "fashion-mnist"
    public var steps: Int = 300
    /// Batch B of image-caption pairs; all go to CLIP, `sslBatch` to SSL, `recBatch` to reconstruction.
    public var batchSize: Int = 32
    public var sslBatch: Int = 8
    public var recBatch: Int = 4
    public var localCrops: Int = 2
    public var localSize: Int = 16
    public var lr: Float = 1e-3
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
    /// SSL multi-crop area scales, fractions of the image (nil = DINOv2's: global 0.32...1, local
    /// 0.05...0.32; `globalCropScale` / `localCropScale`). Optional so that a configuration that does
    /// not set them records (and hashes) exactly as before they existed; set them with overrides
    /// such as `train.localCropMin=0.2`.
    public var globalCropMin: Float?
    public var globalCropMax: Float?
    public var localCropMin: Float?
    public var localCropMax: Float?
    public init() {}

    /// The global / local crops' area scale bounds (each DINOv2's, `MultiCropAugmentation`, unless
    /// set); unchecked pairs, so `VTPConfig.validate` can name a reversed one before it becomes a range.
    var globalCropBounds: (lo: Float, hi: Float) {
        (globalCropMin ?? MultiCropAugmentation.defaultGlobalScale.lowerBound, globalCropMax ?? MultiCropAugmentation.defaultGlobalScale.upperBound)
    }
    var localCropBounds: (lo: Float, hi: Float) {
        (localCropMin ?? MultiCropAugmentation.defaultLocalScale.lowerBound, localCropMax ?? MultiCropAugmentation.defaultLocalScale.upperBound)
    }
    /// The global crops' area scale range (DINOv2's 0.32...1 unless set; valid after `VTPConfig.validate`).
    public var globalCropScale: ClosedRange<Float> { globalCropBounds.lo...globalCropBounds.hi }
    /// The local crops' area scale range (DINOv2's 0.05...0.32 unless set; valid after `VTPConfig.validate`).
    public var localCropScale: ClosedRange<Float> { localCropBounds.lo...localCropBounds.hi }
}

/// A fully resolved tokenizer configuration, recorded with every run and checkpoint.
public struct VTPConfig: RecordedConfig, Sendable, Equatable {
    public var preset: String
    public var variant: VTPVariant
    public var model = VTPModelConfig()
    public var loss = VTPLossConfig()
    public var train = VTPTrainConfig()
    public init(preset: String, variant: VTPVariant) { self.preset = preset; self.variant = variant }

    /// Checks shapes and ranges; throws `MethodError.invalidConfig` naming the field and the limit.
    public func validate() throws {
        try MethodError.check(model.imageSize % model.patchSize == 0, "model.patchSize", "\(model.patchSize) must divide imageSize \(model.imageSize)")
        try MethodError.check(model.width % model.heads == 0 && (model.width / model.heads) % 4 == 0, "model.heads",
                 "width/heads must be a multiple of 4 (2-D RoPE), got \(model.width)/\(model.heads)")
        try MethodError.check(model.decoderWidth % model.heads == 0 && (model.decoderWidth / model.heads) % 4 == 0, "model.decoderWidth",
                 "decoderWidth/heads must be a multiple of 4, got \(model.decoderWidth)/\(model.heads)")
        try MethodError.check(model.latentChannels >= 1 && model.latentChannels <= 256, "model.latentChannels", "must be in 1...256")
        try MethodError.check(train.steps >= 1 && train.steps <= 10_000_000, "train.steps", "must be in 1...10000000, got \(train.steps)")
        try MethodError.check(train.batchSize >= 2 && train.batchSize <= 1024, "train.batchSize", "must be in 2...1024")
        try MethodError.check(train.recBatch >= 1 && train.recBatch <= train.batchSize, "train.recBatch", "must be in 1...batchSize")
        try MethodError.check(train.sslBatch >= 1 && train.sslBatch <= train.batchSize, "train.sslBatch", "must be in 1...batchSize")
        try MethodError.check(train.localSize % model.patchSize == 0 && train.localSize <= model.imageSize, "train.localSize",
                 "must be a multiple of patchSize and <= imageSize")
        for (field, bounds) in [("globalCrop", train.globalCropBounds), ("localCrop", train.localCropBounds)] {
            let (lo, hi) = bounds
            try MethodError.check(lo > 0 && lo <= 1, "train.\(field)Min", "must be in (0, 1], got \(lo)")
            try MethodError.check(hi >= lo && hi <= 1, "train.\(field)Max", "must be in [\(field)Min \(lo), 1], got \(hi)")
        }
    }
}

