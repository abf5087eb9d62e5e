import ComputeCore
import Datasets

/// What a generator trains on, all precomputed (so a step never runs the tokenizer or MiniLM):
/// normalised latents of every image, a table of prompt token features, and for every image the
/// prompts that describe it.
public struct FlowGenData: @unchecked Sendable {
    /// Normalised latents. [N, T, C]
    public let latents: Tensor
    /// Prompt token features, indexed by `captions`.
    public let texts: [TextFeatures]
    /// For image i, the indices into `texts` of its captions (one is drawn per step).
    public let captions: [[Int]]
    public var count: Int { latents.shape[0] }

    public init(latents: Tensor, texts: [TextFeatures], captions: [[Int]]) throws {
        guard latents.rank == 3 else { throw MethodError.invalidInput(field: "latents", message: "must be [N, T, C], got \(latents.shape)") }
        guard captions.count == latents.shape[0] else {
            throw MethodError.invalidInput(field: "captions", message: "\(captions.count) caption lists for \(latents.shape[0]) latents")
        }
        guard captions.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= 0 && $0 < texts.count } }) else {
            throw MethodError.invalidInput(field: "captions", message: "every image needs >= 1 caption index in 0..<\(texts.count)")
        }
        self.latents = latents; self.texts = texts; self.captions = captions
    }

    /// Batch `step` of size `batchSize`: an epoch-wise permutation (seeded) and one caption per image
    /// drawn from `rng`. -> (x0 [B, T, C], prompts)
    public func batch(step: Int, batchSize: Int, seed: UInt64, rng: inout RNG) throws -> (Tensor, [TextFeatures]) {
        let sampler = try BatchSampler(count: count, batchSize: min(batchSize, count), seed: seed, dropLast: true)
        let idx = sampler.batch(step: step)
        let x0 = latents.indexSelect(axis: 0, idx)
        let prompts = idx.map { i in texts[captions[i][rng.int(captions[i].count)]] }
        return (x0, prompts)
    }
}
