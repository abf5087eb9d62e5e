import ComputeCore
import Foundation

/// The encoder's weights as frozen ComputeCore tensors, built on first use.
final class MiniLMTensorWeights {
    struct Layer {
        let wq, bq, wk, bk, wv, bv, wo, bo, ln1g, ln1b, wi, bi, wout, bout, ln2g, ln2b: Tensor
    }
    let word: Tensor        // [V, D]
    let position: Tensor    // [512, D]
    let tokenType: Tensor   // [D]
    let embLNg, embLNb: Tensor
    let layers: [Layer]

    init(_ m: MiniLMEncoder) {
        let D = MiniLMEncoder.width, I = MiniLMEncoder.intermediate
        func t(_ a: [Float], _ s: [Int]) -> Tensor { Tensor(a, shape: s) }
        word = t(m.wordEmbeddings, [m.vocabularySize, D])
        position = t(m.positionEmbeddings, [MiniLMEncoder.maxPositions, D])
        tokenType = t(m.tokenTypeEmbedding, [D])
        embLNg = t(m.embLNg, [D])
        embLNb = t(m.embLNb, [D])
        layers = m.layers.map { l in
            Layer(wq: t(l.wq, [D, D]), bq: t(l.bq, [D]), wk: t(l.wk, [D, D]), bk: t(l.bk, [D]),
                  wv: t(l.wv, [D, D]), bv: t(l.bv, [D]), wo: t(l.wo, [D, D]), bo: t(l.bo, [D]),
                  ln1g: t(l.ln1g, [D]), ln1b: t(l.ln1b, [D]), wi: t(l.wi, [I, D]), bi: t(l.bi, [I]),
                  wout: t(l.wout, [D, I]), bout: t(l.bout, [D]), ln2g: t(l.ln2g, [D]), ln2b: t(l.ln2b, [D]))
        }
    }
}

extension MiniLMEncoder {
    /// Frozen tensor copies of the weights (created once, then shared).
    var tensorWeights: MiniLMTensorWeights {
        tensorLock.lock()
        defer { tensorLock.unlock() }
        if let w = _tensorWeights { return w }
        let w = MiniLMTensorWeights(self)
        _tensorWeights = w
        return w
    }

    /// The word-embedding table as a frozen tensor (DTI initialisation, m*). // [30522, 384]
    public var vocabularyTable: Tensor { tensorWeights.word }

    /// Word-embedding rows of padded token id batches. ids [B][T] (equal lengths) -> [B, T, 384]
    public func inputEmbeddingTensor(_ ids: [[Int32]]) -> Tensor {
        let T = ids.first?.count ?? 0
        precondition(ids.allSatisfy { $0.count == T }, "pad id rows to one length first (see paddedBatch)")
        return Tensor.gather(tensorWeights.word, ids: ids.flatMap { $0.map(Int.init) }, shape: [ids.count, T])
    }

    /// Tokenises texts and pads them with [PAD] to the longest; mask is 1 for real tokens.
    /// -> (ids [B][T], mask [B, T])
    public func paddedBatch(_ texts: [String]) -> (ids: [[Int32]], mask: Tensor) {
        let toks = texts.map(tokenize)
        let T = toks.map(\.count).max() ?? 1
        let ids = toks.map { $0 + [Int32](repeating: tokenizer.padID, count: T - $0.count) }
        let mask = Tensor(toks.flatMap { t in (0..<T).map { $0 < t.count ? Float(1) : 0 } }, shape: [texts.count, T])
        return (ids, mask)
    }

    /// Differentiable token features on ComputeCore ops: gradients flow to `inputEmbeddings`
    /// when it requires grad (DTI / textual inversion); weights stay frozen.
    /// inputEmbeddings [B, T, 384], keyPadding [B, T] (1 = real token) -> [B, T, 384]
    public func tokenFeatures(_ inputEmbeddings: Tensor, keyPadding: Tensor? = nil) -> Tensor {
        let D = MiniLMEncoder.width
        precondition(inputEmbeddings.rank == 3 && inputEmbeddings.shape[2] == D, "inputEmbeddings must be [B, T, \(D)]")
        let T = inputEmbeddings.shape[1]
        precondition(T >= 1 && T <= MiniLMEncoder.maxPositions, "sequence length \(T) outside 1...512")
        let w = tensorWeights
        let pos = w.position.slice(axis: 0, 0, T)  // [T, D]
        var x = Tensor.layerNorm(inputEmbeddings + pos + w.tokenType, weight: w.embLNg, bias: w.embLNb, eps: MiniLMEncoder.eps)
        let mask = AttentionMask(keyPadding: keyPadding)
        for l in w.layers {
            let q = Tensor.linear(x, l.wq, l.bq), k = Tensor.linear(x, l.wk, l.bk), v = Tensor.linear(x, l.wv, l.bv)
            let ctx = Tensor.attention(q: q, k: k, v: v, heads: MiniLMEncoder.heads, mask: mask)
            x = Tensor.layerNorm(Tensor.linear(ctx, l.wo, l.bo) + x, weight: l.ln1g, bias: l.ln1b, eps: MiniLMEncoder.eps)
            let ff = Tensor.linear(Tensor.linear(x, l.wi, l.bi).gelu(), l.wout, l.bout)
            x = Tensor.layerNorm(ff + x, weight: l.ln2g, bias: l.ln2b, eps: MiniLMEncoder.eps)
        }
        return x
    }

    /// Differentiable sentence embeddings: masked mean over tokens, then L2.
    /// inputEmbeddings [B, T, 384], keyPadding [B, T] -> [B, 384]
    public func sentenceEmbedding(_ inputEmbeddings: Tensor, keyPadding: Tensor? = nil) -> Tensor {
        let feats = tokenFeatures(inputEmbeddings, keyPadding: keyPadding)
        guard let m = keyPadding else { return feats.mean(axis: 1).l2Normalized() }
        let B = feats.shape[0], T = feats.shape[1]
        let m3 = m.reshaped([B, T, 1])
        return ((feats * m3).sum(axis: 1) / m3.sum(axis: 1)).l2Normalized()
    }
}
