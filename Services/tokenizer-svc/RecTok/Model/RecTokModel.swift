import ComputeCore
import FlowGen
import VTP

/// What one training forward of RecTok computes (every intermediate, for losses and tests).
public struct RecTokForward {
    /// Posterior mean and (clamped) log-variance of the visible tokens. [B, V, d]
    public let mean: Tensor, logVar: Tensor
    /// Posterior sample z = mean + exp(logVar / 2)·ε. [B, V, d]
    public let z: Tensor
    /// Noisy latent x_t = (1 - t)·z + t·γ·ε' with one t per image. [B, V, d]
    public let xt: Tensor
    /// Reconstructed patches from the noisy masked latent. [B, T, 3·p²]
    public let patches: Tensor
    /// Semantic head's prediction of the teacher features (nil without FSD). [B, T, C]
    public let semantics: Tensor?
}

/// The RecTok tokenizer (METHODS.md §2; Shi et al. 2025, "flow semantic distillation"):
/// a ViT encoder (VTP's, run on visible patches only) -> per-token diagonal Gaussian
/// (`moments`: Linear(D -> 2d)) -> flow noise on the latent -> the pixel decoder and a tiny
/// semantic head, both reading the noisy latent with learned mask tokens at masked positions.
/// Checkpoint names: `encoder.*`, `moments.*`, `decoder.*`, `decoder_mask_token`,
/// `semantic.*` and `semantic_mask_token` (only with FSD).
public final class RecTokModel: Module {
    public let config: RecTokModelConfig
    public let encoder: ViTEncoder
    public let moments: Linear                 // D -> 2d: [mean | log-variance]
    public let decoder: PixelDecoder
    public let decoderMaskToken: Tensor        // [decoderWidth]
    /// The semantic head: a tiny ViT on the latent grid, d -> semanticWidth -> teacher channels.
    public let semanticHead: PixelDecoder?
    public let semanticMaskToken: Tensor?      // [semanticWidth]

    /// `teacherChannels` = the teacher's feature width C; nil builds no semantic head (FSD off).
    public init(_ c: RecTokModelConfig, teacherChannels: Int?, seed: UInt64) {
        config = c
        var rng = RNG(seed: seed)
        encoder = ViTEncoder(c.vtp, rng: &rng)
        moments = Linear(c.width, 2 * c.latentChannels, rng: &rng)
        decoder = PixelDecoder(c.vtp, rng: &rng)
        decoderMaskToken = rng.normal([c.decoderWidth], std: 0.02).requiringGrad()
        if let C = teacherChannels {
            semanticHead = PixelDecoder(inputs: c.latentChannels, width: c.semanticWidth, depth: c.semanticDepth,
                                        heads: c.heads, mlpRatio: c.mlpRatio, grid: c.grid, outputs: C, rng: &rng)
            semanticMaskToken = rng.normal([c.semanticWidth], std: 0.02).requiringGrad()
        } else {
            semanticHead = nil; semanticMaskToken = nil
        }
        encoder.maskToken.requiresGrad = false   // VTP's iBOT mask token: RecTok drops masked patches instead
    }

    /// Posterior of the visible tokens: patches [B, T, 3·p²] -> mean, log-variance [B, V, d].
    public func posterior(_ patches: Tensor, mask: RecTokMask, logVarRange: ClosedRange<Float> = -30...20) -> (mean: Tensor, logVar: Tensor) {
        let h = encoder.visibleTokens(patches, grid: config.grid, mask: mask)    // [B, V, D]
        let m = moments(h)                                                        // [B, V, 2d]
        let d = config.latentChannels
        return (m.slice(axis: 2, 0, d), m.slice(axis: 2, d, 2 * d).clamp(logVarRange.lowerBound, logVarRange.upperBound))
    }

    /// Latents used for generation: the posterior mean of every token. patches [B, T, 3·p²] -> [B, T, d]
    public func encode(_ patches: Tensor) -> Tensor {
        posterior(patches, mask: .none(batch: patches.shape[0], tokens: config.tokens)).mean
    }

    /// Decodes a full latent grid: [B, T, d] -> patches [B, T, 3·p²].
    public func decode(_ z: Tensor) -> Tensor { decoder(z) }

    /// Decodes visible latents with the decoder's mask token at masked positions: [B, V, d] -> [B, T, 3·p²].
    public func decode(visible z: Tensor, mask: RecTokMask) -> Tensor {
        decoder.readout(mask.fill(decoder.embed(z), token: decoderMaskToken))
    }

    /// Semantic head on visible (noisy) latents with its mask token at masked positions:
    /// [B, V, d] -> predicted teacher features [B, T, C]; nil without FSD.
    public func semantics(visible z: Tensor, mask: RecTokMask) -> Tensor? {
        guard let head = semanticHead, let token = semanticMaskToken else { return nil }
        return head.readout(mask.fill(head.embed(z), token: token))
    }

    /// The training forward (METHODS.md §2) with all randomness given:
    /// `posteriorNoise` ε and `flowNoise` ε' [B, V, d] (standard normal), `t` one per image.
    /// z = mean + exp(logVar/2)·ε; x_t = (1 - t)·z + t·γ·ε' (`FlowSchedule.interpolate`);
    /// pixels and semantics are decoded from x_t.
    public func forward(_ patches: Tensor, mask: RecTokMask, posteriorNoise: Tensor, flowNoise: Tensor, t: [Float],
                        noiseScale: Float, logVarRange: ClosedRange<Float> = -30...20) -> RecTokForward {
        let (mean, logVar) = posterior(patches, mask: mask, logVarRange: logVarRange)   // [B, V, d]
        let z = RecTokLosses.sample(mean: mean, logVar: logVar, noise: posteriorNoise)  // [B, V, d]
        let xt = noiseScale > 0 ? FlowSchedule.interpolate(z, flowNoise * noiseScale, t: t) : z
        return RecTokForward(mean: mean, logVar: logVar, z: z, xt: xt,
                             patches: decode(visible: xt, mask: mask), semantics: semantics(visible: xt, mask: mask))
    }

    /// Parameters of the pixel decoder path only (the decoder-only fine-tune, phase 2).
    public var decoderParameters: [(String, Tensor)] {
        collectParameters([("decoder_mask_token", decoderMaskToken)], [("decoder", decoder)])
    }

    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([("decoder_mask_token", decoderMaskToken), ("semantic_mask_token", semanticMaskToken)],
                          [("encoder", encoder), ("moments", moments), ("decoder", decoder), ("semantic", semanticHead)])
    }
}
