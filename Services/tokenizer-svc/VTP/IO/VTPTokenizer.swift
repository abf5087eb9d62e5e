import ComputeCore
import Datasets
import Foundation

/// A trained tokenizer for inference: images <-> latents, plus the CLS and CLIP embeddings
/// used by evaluation. Thread-safe (one forward at a time).
public final class VTPTokenizer: LatentTokenizer, @unchecked Sendable {
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

    /// Images -> latents [B, grid·grid, d] and final-normed CLS [B, D].
    public func encodeWithCLS(_ images: [ImageBuffer]) throws -> (latents: Tensor, cls: Tensor) {
        let x = try checkedPatches(images, patch: config.model.patchSize, channels: config.model.channels)
        lock.lock(); defer { lock.unlock() }
        return withNoGrad { let (z, c) = model.encode(x); return (z.detached(), c.detached()) }
    }

    /// Images -> latents [B, grid·grid, d].
    public func encode(_ images: [ImageBuffer]) throws -> Tensor { try encodeWithCLS(images).latents }

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
        return rows(e)
    }

    /// Projected text embeddings (unit rows) of frozen sentence embeddings [N, 384] -> [N, e].
    public func clipText(_ sentenceEmbeddings: [[Float]]) -> [[Float]] {
        let t = Tensor(sentenceEmbeddings.flatMap { $0 }, shape: [sentenceEmbeddings.count, config.model.textDim])
        lock.lock(); defer { lock.unlock() }
        return rows(withNoGrad { model.clip.text(t) })
    }

    func rows(_ t: Tensor) -> [[Float]] {
        let n = t.shape[0], w = t.count / max(1, n), a = t.array
        return (0..<n).map { Array(a[($0 * w)..<(($0 + 1) * w)]) }
    }
}
