import ComputeCore

/// One pre-norm block: x += proj(attn(norm1 x)); x += fc2(gelu(fc1(norm2 x))).
public final class DecoderBlock: Module {
    public let norm1: RMSNorm, qkv: Linear, proj: Linear, norm2: RMSNorm, fc1: Linear, fc2: Linear
    public let heads: Int

    public init(_ c: TransformerConfig, rng: inout RNG) {
        heads = c.heads
        norm1 = RMSNorm(c.width); norm2 = RMSNorm(c.width)
        qkv = Linear(c.width, 3 * c.width, bias: false, rng: &rng)
        proj = Linear(c.width, c.width, bias: false, rng: &rng)
        fc1 = Linear(c.width, c.mlpRatio * c.width, rng: &rng)
        fc2 = Linear(c.mlpRatio * c.width, c.width, rng: &rng)
    }

    /// Full-sequence pass (training, MDM). x [B, T, D].
    func callAsFunction(_ x: Tensor, mask: AttentionMask, rope: RoPE) -> Tensor {
        let h = x + proj(Tensor.attention(qkv: qkv(norm1(x)), heads: heads, mask: mask, rope: rope))
        return h + fc2(fc1(norm2(h)).gelu())
    }

    /// Incremental pass over new tokens with this layer's cache (no tape). x [1, Tnew, D].
    func decode(_ x: Tensor, cache: KVCache, rope: RoPE) -> Tensor {
        let D = proj.inFeatures
        let parts = qkv(norm1(x)).split(axis: 2, sizes: [D, D, D])
        let a = Tensor.attention(q: parts[0], k: parts[1], v: parts[2], heads: heads, cache: cache, rope: rope,
                                 mask: .causal)
        let h = x + proj(a)
        return h + fc2(fc1(norm2(h)).gelu())
    }

    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([], [("norm1", norm1), ("qkv", qkv), ("proj", proj), ("norm2", norm2), ("fc1", fc1), ("fc2", fc2)])
    }
}

/// A small transformer language model over position-id RoPE: causal (AR and ReFusion) or
/// bidirectional (masked diffusion). Every token carries an explicit position id, so
/// ReFusion's permuted slots keep their original positions (METHODS.md §5).
public final class TransformerLM: Module {
    public let config: TransformerConfig
    public let embed: Embedding
    public let blocks: [DecoderBlock]
    public let normF: RMSNorm
    public let head: Linear

    public init(_ config: TransformerConfig, seed: UInt64) {
        precondition(config.width % config.heads == 0 && config.headDim % 2 == 0,
                     "width \(config.width) must split into an even head dimension over \(config.heads) heads")
        self.config = config
        var rng = RNG(seed: seed)
        embed = Embedding(config.vocab, config.width, std: 0.02, rng: &rng)
        blocks = (0..<config.depth).map { _ in DecoderBlock(config, rng: &rng) }
        normF = RMSNorm(config.width)
        head = Linear(config.width, config.vocab, bias: false, rng: &rng)
    }

    public func namedParameters() -> [(String, Tensor)] {
        var out = embed.namedParameters().map { ("embed." + $0.0, $0.1) }
        for (i, b) in blocks.enumerated() { out += b.namedParameters().map { ("blocks.\(i).\($0.0)", $0.1) } }
        out += normF.namedParameters().map { ("norm_f." + $0.0, $0.1) }
        out += head.namedParameters().map { ("head." + $0.0, $0.1) }
        return out
    }

    /// Logits for a batch. tokens/positions `[B*T]` row-major, keyPadding `[B, T]` (1 = real)
    /// for bidirectional batches of unequal length. Returns `[B, T, vocab]`.
    public func logits(tokens: [Int], positions: [Int], batch: Int, keyPadding: Tensor? = nil) -> Tensor {
        let T = tokens.count / batch
        precondition(T * batch == tokens.count && positions.count == tokens.count, "tokens/positions must be [B*T]")
        let rope = RoPE(positions: positions, batch: batch, headDim: config.headDim, base: config.ropeBase)
        let mask = AttentionMask(causal: config.causal, keyPadding: keyPadding)
        var x = embed(tokens, shape: [batch, T])
        for b in blocks { x = b(x, mask: mask, rope: rope) }
        return head(normF(x))
    }

    /// The training loss of a batch: `sum_i w_i * CE(logits_i, label_i)` (weights already
    /// include the per-sample normalisation, see `TrainingBatch`).
    public func loss(_ batch: TrainingBatch, keyPadding: Tensor? = nil) -> Tensor {
        let logits = self.logits(tokens: batch.tokens, positions: batch.positions, batch: batch.batch,
                                 keyPadding: keyPadding)
        let V = config.vocab
        let n = batch.tokens.count
        let lp = logits.reshaped([n, V]).logSoftmax(axis: -1)
        let w = Tensor(zeros: [n, V])
        for i in 0..<n where batch.labels[i] >= 0 && batch.weights[i] != 0 {
            w.ptr[i * V + batch.labels[i]] = -batch.weights[i]
        }
        return (lp * w).sum()
    }
}
