import ComputeCore

/// Per-layer key/value caches of one decoding stream (batch 1).
public final class TransformerCache: DecodeCache {
    let layers: [KVCache]
    /// The model's weights packed once per stream for the fixed-order kernel (`FixedOrderGEMM`):
    /// sgemm would pack every weight matrix again on every forward, the bulk of a small forward's
    /// time on some CPUs. A stream is one decode, during which the weights do not change.
    let weights = PackedWeightCache()
    init(config: TransformerConfig) {
        layers = (0..<config.depth).map { _ in KVCache(batch: 1, capacity: 2 * config.maxPositions, dim: config.width) }
    }
    public var count: Int { layers.first?.length ?? 0 }
    public func truncate(to length: Int) { for l in layers { l.truncate(to: Swift.min(length, l.length)) } }
}

extension TransformerLM: CausalTokenModel {
    public var vocabSize: Int { config.vocab }

    public func makeCache() -> DecodeCache { TransformerCache(config: config) }

    /// Runs new tokens after the cached ones; keys/values are computed once and appended.
    public func forward(tokens: [Int], positions: [Int], cache: DecodeCache) -> Logits {
        precondition(config.causal, "a bidirectional model cannot decode with a KV cache")
        guard let c = cache as? TransformerCache else { preconditionFailure("TransformerLM needs its TransformerCache") }
        precondition(positions.allSatisfy { $0 >= 0 && $0 < config.maxPositions },
                     "position ids must be in 0..<\(config.maxPositions)")
        return withNoGrad { withBatchInvariance { withPackedWeights(c.weights) {
            let rope = RoPE(positions: positions, batch: 1, headDim: config.headDim, base: config.ropeBase)
            var x = embed(tokens, shape: [1, tokens.count])
            for (i, b) in blocks.enumerated() { x = b.decode(x, cache: c.layers[i], rope: rope) }
            let out = head(normF(x))
            return Logits(rows: tokens.count, vocab: config.vocab, values: out.array)
        } } }
    }
}

extension TransformerLM: BidirectionalTokenModel {
    /// Full-sequence logits (masked diffusion; also usable for a causal model without cache).
    /// Inside `withPackedWeights` (as `MDMDecoder` runs it) the weights are packed once per decode.
    public func forward(tokens: [Int], positions: [Int]) -> Logits {
        withNoGrad { withBatchInvariance {
            let out = logits(tokens: tokens, positions: positions, batch: 1)
            return Logits(rows: tokens.count, vocab: config.vocab, values: out.array)
        } }
    }
}
