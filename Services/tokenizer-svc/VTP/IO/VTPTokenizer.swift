import ComputeCore
import Datasets
import Foundation

/// A trained tokenizer for inference: images <-> latents, plus the CLS and CLIP embeddings
/// used by evaluation. Thread-safe (one forward at a time).
public final class VTPTokenizer: LatentTokenizer, TextAlignedTokenizer, @unchecked Sendable {
    public let model: VTPModel
    public let config: VTPConfig
    private let lock = NSLock()

    public init(model: VTPModel, config: VTPConfig) { self.model = model; self.config = config }

    /// Loads a checkpoint written by `VTPCheckpoint.save`.
    public convenience init(checkpointPath: String) throws {
        let (m, c) = try VTPCheckpoint.loadModel(from: checkpointPath)
        self.init(model: m, config: c)
    }

    /// Latent shape per image: [grid, grid, d].
    public var latentShape: [Int] { [config.model.grid, config.model.grid, config.model.latentChannels] }
    public var imageSize: Int { config.model.imageSize }
    public var presetName: String { config.preset }
    public var datasetName: String { config.train.dataset }
    public var validationFraction: Double { config.train.validationFraction }
    /// The CLIP head when the variant trains one.
    public var textAlignment: (any TextAlignedTokenizer)? { config.variant.usesCLIP ? self : nil }

    /// Images -> latents [B, grid·grid, d] and final-normed CLS [B, D].
    public func encodeWithCLS(_ images: [ImageBuffer]) throws -> (latents: Tensor, cls: Tensor) {
        let x = try checkedPatches(images, patch: config.model.patchSize, channels: config.model.channels)
        lock.lock(); defer { lock.unlock() }
        return withNoGrad { let (z, c) = model.encode(x); return (z.detached(), c.detached()) }
    }

    /// Images -> latents [B, grid·grid, d].
    public func encode(_ images: [ImageBuffer]) throws -> Tensor { try encodeWithCLS(images).latents }

    /// Images -> latents [B, grid·grid, d] and the CLS [B, D] as the summary embedding.
    public func encodeWithSummary(_ images: [ImageBuffer]) throws -> (latents: Tensor, summary: Tensor?) {
        let (z, c) = try encodeWithCLS(images)
        return (z, c)
    }

    /// Latents [B, grid·grid, d] -> images (RGB, values in [0, 1]).
    public func decode(_ latents: Tensor) throws -> [ImageBuffer] {
        try checkLatents(latents)
        lock.lock()
        let patches = withNoGrad { model.decode(latents).detached() }
        lock.unlock()
        return try Patchify.images(patches, patch: config.model.patchSize, channels: config.model.channels)
    }

    /// CLIP image embeddings (unit rows) [B, e].
    public func clipEmbedding(_ images: [ImageBuffer]) throws -> [[Float]] {
        let cls = try encodeWithCLS(images).cls
        lock.lock(); defer { lock.unlock() }
        let e = withNoGrad { model.clip.image(cls) }
        return TokenizerEvaluator.rows(e)
    }

    /// Projected text embeddings (unit rows) of frozen sentence embeddings [N, 384] -> [N, e].
    public func clipText(_ sentenceEmbeddings: [[Float]]) -> [[Float]] {
        let t = Tensor(sentenceEmbeddings.flatMap { $0 }, shape: [sentenceEmbeddings.count, config.model.textDim])
        lock.lock(); defer { lock.unlock() }
        return TokenizerEvaluator.rows(withNoGrad { model.clip.text(t) })
    }
}
