import ComputeCore
import Datasets

/// Many images (an evaluation set) as one step iterator: the prompts are sampled in fixed
/// batches of `batchSize`, each batch a `FlowSampler` whose steps are this iterator's steps; a
/// finished batch is decoded to images at once. Image i starts from the noise of `seeds[i]`;
/// the same (model, prompts, seeds, steps, guidance, sampler) always gives the same images,
/// whatever `batchSize` and `chunk` (sampling is batch-invariant, see `BatchInvariantForward`).
public final class ImageSetSampler {
    public let model: FlowGenModel
    public let prompts: [TextFeatures]
    public let seeds: [UInt64]
    public let steps: Int
    public let guidance: Float
    public let sampler: SamplerKind
    public let batchSize: Int
    public let chunk: Int
    let decode: (Tensor) throws -> [ImageBuffer]
    /// Decoded images so far, in prompt order.
    public private(set) var images: [ImageBuffer] = []
    /// Sampler steps done over all batches.
    public private(set) var completedSteps = 0
    private var current: FlowSampler?

    /// - decode: latents in the tokenizer's scale [B, T, C] -> B images.
    public init(model: FlowGenModel, prompts: [TextFeatures], seeds: [UInt64], steps: Int, guidance: Float,
                sampler: SamplerKind = .euler, batchSize: Int = 64, chunk: Int = 16,
                decode: @escaping (Tensor) throws -> [ImageBuffer]) throws {
        guard !prompts.isEmpty, prompts.count == seeds.count else {
            throw MethodError.invalidInput(field: "seeds", message: "need one seed per prompt (\(prompts.count) prompts, \(seeds.count) seeds)")
        }
        guard batchSize >= 1 && batchSize <= 1024 else {
            throw MethodError.invalidInput(field: "batchSize", message: "must be in 1...1024, got \(batchSize)")
        }
        self.model = model; self.prompts = prompts; self.seeds = seeds; self.steps = steps; self.guidance = guidance
        self.sampler = sampler; self.batchSize = batchSize; self.chunk = min(chunk, batchSize); self.decode = decode
        // Validates steps / guidance / chunk up front (the first batch's sampler).
        current = try makeSampler(from: 0)
    }

    /// Batches x steps.
    public var totalSteps: Int { (prompts.count + batchSize - 1) / batchSize * steps }
    public var isFinished: Bool { images.count == prompts.count }

    private func makeSampler(from start: Int) throws -> FlowSampler {
        let end = min(prompts.count, start + batchSize)
        return try FlowSampler(model: model.model, normalizer: model.normalizer,
                               request: SampleRequest(prompts: Array(prompts[start..<end]), seeds: Array(seeds[start..<end]),
                                                      steps: steps, guidance: guidance, sampler: sampler),
                               chunk: min(chunk, end - start))
    }

    /// One sampler step of the current batch (decoding it when it finishes); false once every image is done.
    @discardableResult
    public func next() throws -> Bool {
        guard !isFinished else { return false }
        let s = try current ?? makeSampler(from: images.count)
        current = s
        s.next()
        completedSteps += 1
        if s.isFinished {
            images += try decode(s.latents)
            current = nil
        }
        return true
    }
}
