import ComputeCore
import FlowGen
import Models

/// The frozen generator's denoising loss on a concept's image latents under prompt templates that
/// contain the concept's token (METHODS.md §4): x_t = (1 - t)·x0 + t·ε, t drawn like the
/// generator's training (logit-normal, shifted), loss = MSE(v̂, ε - x0) (+ the generator's cosine
/// term). The only trainable input is the token's embedding; MiniLM and the DiT stay frozen.
public final class ConceptObjective: @unchecked Sendable {
    /// One batch: latents, noise levels, noise and the prompts (containing `name`).
    public struct Batch {
        public let x0: Tensor       // [B, T, C] normalised latents
        public let t: [Float]       // [B]
        public let eps: Tensor      // [B, T, C]
        public let prompts: [String]
    }

    public let encoder: MiniLMEncoder
    public let generator: FlowGenModel
    /// Normalised concept latents. [N, T, C]
    public let latents: Tensor
    public let name: String
    public let templates: [String]

    /// latents: raw tokenizer latents of the concept images [N, T, C] (normalised here with the
    /// generator's statistics).
    public init(encoder: MiniLMEncoder, generator: FlowGenModel, latents: Tensor, name: String, templates: [String]) throws {
        let m = generator.config.model
        guard latents.rank == 3, latents.shape[0] >= 1 else {
            throw MethodError.invalidInput(field: "images", message: "need at least one concept image latent [N, T, C], got \(latents.shape)")
        }
        guard latents.shape[1] == m.tokens, latents.shape[2] == m.latentChannels else {
            throw MethodError.invalidInput(field: "images", message: "latents must be [N, \(m.tokens), \(m.latentChannels)] for this generator, got \(latents.shape)")
        }
        guard m.textDim == MiniLMEncoder.width else {
            throw MethodError.invalidInput(field: "generator", message: "text width \(m.textDim) is not MiniLM's \(MiniLMEncoder.width)")
        }
        try ConceptName.validate(name)
        self.encoder = encoder; self.generator = generator
        self.latents = generator.normalizer.normalize(latents)
        self.name = name; self.templates = templates
        generator.model.setFrozen(true)
    }

    /// Batch `step` of `size`: images and templates drawn with replacement; a pure function of (seed, step).
    public func batch(step: Int, size: Int, seed: UInt64) -> Batch {
        var rng = RNG(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(step + 1))
        let tc = generator.config.train, N = latents.shape[0]
        let idx = (0..<size).map { _ in rng.int(N) }
        let prompts = (0..<size).map { _ in templates[rng.int(templates.count)].replacingOccurrences(of: "{}", with: name) }
        let t = (0..<size).map { _ in FlowSchedule.sampleT(rng.normal(), mean: tc.logitMean, std: tc.logitStd, shift: generator.config.model.shift) }
        let x0 = latents.indexSelect(axis: 0, idx)
        return Batch(x0: x0, t: t, eps: rng.normal(x0.shape), prompts: prompts)
    }

    /// Cross-attention context of `prompts` with `name` embedded as `embedding`, padded or truncated
    /// to the generator's text length; differentiable in `embedding` [1, 384].
    public func context(_ prompts: [String], embedding: Tensor) -> TextContext {
        let S = generator.config.model.textTokens, D = MiniLMEncoder.width
        let (ids, mask) = encoder.paddedBatch(prompts, extraTokens: [name])
        let feats = encoder.tokenFeatures(encoder.inputEmbeddingTensor(ids, extra: embedding), keyPadding: mask)  // [B, T, D]
        let B = prompts.count, T = ids[0].count
        if T >= S { return TextContext(context: feats.slice(axis: 1, 0, S), padding: mask.slice(axis: 1, 0, S)) }
        return TextContext(context: Tensor.concat([feats, Tensor(zeros: [B, S - T, D])], axis: 1),
                           padding: Tensor.concat([mask, Tensor(zeros: [B, S - T])], axis: 1))
    }

    /// The denoising loss of `batch` with the token embedded as `embedding` [1, 384] -> scalar.
    public func loss(_ batch: Batch, embedding: Tensor) -> Tensor {
        let B = batch.t.count
        let xt = FlowSchedule.interpolate(batch.x0, batch.eps, t: batch.t)
        let target = batch.eps - batch.x0
        let vhat = generator.model(xt, t: Tensor(batch.t, shape: [B]), text: context(batch.prompts, embedding: embedding))
        let w = generator.config.train.cosineWeight
        let mse = Tensor.mseLoss(vhat, target)
        return w > 0 ? mse + Tensor.cosineLoss(vhat, target) * w : mse
    }
}
