import ComputeCore
import Datasets
import Foundation
import VTP

/// A trained RecTok tokenizer for inference, shaped like `VTPTokenizer`: images -> latents
/// [B, T, d] (the posterior mean of every token, nothing masked, no noise) and latents -> images.
/// A generator trains on these latents (`LatentTokenizer`). Thread-safe (one forward at a time).
public final class RecTokTokenizer: LatentTokenizer, @unchecked Sendable {
    public let model: RecTokModel
    public let config: RecTokConfig
    private let lock = NSLock()

    public init(model: RecTokModel, config: RecTokConfig) { self.model = model; self.config = config }

    /// Loads a checkpoint written by `RecTokCheckpoint.save`.
    public convenience init(checkpointPath: String) throws {
        let (m, c) = try RecTokCheckpoint.loadModel(from: checkpointPath)
        self.init(model: m, config: c)
    }

    /// Latent shape per image: [grid, grid, d].
    public var latentShape: [Int] { [config.model.grid, config.model.grid, config.model.latentChannels] }
    public var imageSize: Int { config.model.imageSize }
    public var presetName: String { config.preset }
    public var datasetName: String { config.train.dataset }
    public var validationFraction: Double { config.train.validationFraction }
    /// The shift s of the flow noise the latents were trained under (`RecTokConfig.noiseShift`);
    /// the generator trains and samples on the same shifted schedule (METHODS.md §2).
    public var latentNoiseShift: Float? { config.noiseShift }

    /// Images -> latents [B, grid·grid, d] (posterior means).
    public func encode(_ images: [ImageBuffer]) throws -> Tensor {
        let x = try checkedPatches(images, patch: config.model.patchSize, channels: config.model.channels)
        lock.lock(); defer { lock.unlock() }
        return withNoGrad { model.encode(x).detached() }
    }

    /// Latents [B, grid·grid, d] -> images (RGB, values in [0, 1]).
    public func decode(_ latents: Tensor) throws -> [ImageBuffer] {
        try checkLatents(latents)
        lock.lock()
        let patches = withNoGrad { model.decode(latents).detached() }
        lock.unlock()
        return try Patchify.images(patches, patch: config.model.patchSize, channels: config.model.channels)
    }
}
