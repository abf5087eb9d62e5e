import ComputeCore

/// Text-conditioned DiT on a tokenizer's latent grid (METHODS.md §3; Peebles & Xie 2023 with
/// PixArt-α cross-attention): patch 1 (one token per latent position), learned positions,
/// adaLN-Zero blocks conditioned on c = timestep MLP(sinusoidal(t·scale)) + Linear(masked mean of
/// the text tokens), cross-attention to frozen MiniLM token features with their padding mask, final
/// adaLN (shift, scale) + zero-initialised Linear to the latent channels. Predicts the velocity
/// v = ε - x0 (`FlowSchedule`). A learned null text (one token) stands in for dropped prompts
/// (classifier-free guidance).
///
/// Names: `inProj`, `pos`, `timeEmbed`, `textPool`, `nullText`, `blocks.N.*`, `finalAdaLN`, `out`.
public final class FlowGenDiT: Module {
    public let config: FlowGenModelConfig
    public let inProj: Linear
    /// Learned position embedding. [1, T, D]
    public let pos: Tensor
    public let timeEmbed: TimestepEmbedding
    public let textPool: Linear
    /// The null prompt's single token feature. [1, 1, textDim]
    public let nullText: Tensor
    public let blocks: ModuleList<DiTBlock>
    public let finalNorm: LayerNorm
    public let finalAdaLN: Linear
    public let out: Linear

    public init(_ config: FlowGenModelConfig, seed: UInt64) {
        self.config = config
        var rng = RNG(seed: seed)
        let D = config.width, C = config.latentChannels
        inProj = Linear(C, D, rng: &rng)
        pos = rng.normal([1, config.tokens, D], std: 0.02).requiringGrad()
        timeEmbed = TimestepEmbedding(D, frequencyDim: config.timeFrequencyDim, inputScale: config.timeInputScale, rng: &rng)
        textPool = Linear(config.textDim, D, rng: &rng)
        nullText = rng.normal([1, 1, config.textDim], std: 0.02).requiringGrad()
        blocks = ModuleList((0..<config.depth).map { _ in
            DiTBlock(D, heads: config.heads, condDim: D, contextDim: config.textDim, mlpRatio: config.mlpRatio,
                     norm: .layerNorm, ffn: .gelu, rng: &rng)
        })
        finalNorm = LayerNorm(D, eps: 1e-6, affine: false)
        finalAdaLN = Linear(D, 2 * D, rng: &rng)
        finalAdaLN.weight.fill(0); finalAdaLN.bias?.fill(0)
        out = Linear(D, C, rng: &rng)
        out.weight.fill(0); out.bias?.fill(0)
    }

    /// Velocity prediction. x [B, T, C] (normalised latents), t [B] in [0, 1] (1 = noise),
    /// text: context [B, S, textDim] + padding [B, S] -> v [B, T, C]. `extraCond` [B, D], if given, is
    /// added to the conditioning vector c (MeanFlow's embedding of t - r, distill-svc).
    public func callAsFunction(_ x: Tensor, t: Tensor, text: TextContext, extraCond: Tensor? = nil) -> Tensor {
        let B = x.shape[0], D = config.width
        precondition(x.rank == 3 && x.shape[1] == config.tokens && x.shape[2] == config.latentChannels,
                     "FlowGenDiT: x must be [B, \(config.tokens), \(config.latentChannels)], got \(x.shape)")
        precondition(text.batch == B && t.count == B, "FlowGenDiT: batch mismatch")
        let S = text.padding.shape[1]
        let m3 = text.padding.reshaped([B, S, 1])
        let pooled = (text.context * m3).sum(axis: 1) / m3.sum(axis: 1)          // [B, textDim]
        var c = timeEmbed(t) + textPool(pooled)                                   // [B, D]
        if let extraCond { c = c + extraCond }
        var h = inProj(x) + pos                                                   // [B, T, D]
        for block in blocks.items {
            h = block(h, cond: c, context: text.context, contextPadding: text.padding)
        }
        let mod = finalAdaLN(c.silu()).split(axis: 1, sizes: [D, D])              // shift, scale [B, D]
        return out(modulate(finalNorm(h), shift: mod[0], scale: mod[1]))
    }

    /// The batch with the prompts of rows where `drop` is true replaced by the null text
    /// (its token first, everything else masked). Differentiable in `nullText`.
    public func withNullText(_ text: TextContext, drop: [Bool]) -> TextContext {
        let B = text.batch, S = text.padding.shape[1], E = config.textDim
        guard drop.contains(true) else { return text }
        let keep = Tensor(drop.map { $0 ? 0 : 1 }, shape: [B, 1])
        let dropped = Tensor(drop.map { $0 ? 1 : 0 }, shape: [B, 1])
        let first = Tensor((0..<S).map { $0 == 0 ? 1 : 0 }, shape: [1, S])
        let slot = (dropped * first).reshaped([B, S, 1])                          // 1 at (dropped row, token 0)
        let context = text.context * keep.reshaped([B, 1, 1]) + nullText.reshaped([1, 1, E]) * slot
        let padding = text.padding * keep + dropped * first
        return TextContext(context: context, padding: padding)
    }

    /// The null prompt for `batch` rows, `tokens` long (for the unconditional half of guidance).
    public func nullContext(batch: Int, tokens: Int) -> TextContext {
        let empty = TextContext(context: Tensor(zeros: [batch, tokens, config.textDim]), padding: Tensor(zeros: [batch, tokens]))
        return withNullText(empty, drop: [Bool](repeating: true, count: batch))
    }

    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([("pos", pos), ("nullText", nullText)],
                          [("inProj", inProj), ("timeEmbed", timeEmbed), ("textPool", textPool), ("blocks", blocks),
                           ("finalAdaLN", finalAdaLN), ("out", out)])
    }
}
