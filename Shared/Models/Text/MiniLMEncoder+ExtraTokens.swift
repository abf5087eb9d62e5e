import ComputeCore
import Foundation

/// Words appended to the frozen MiniLM vocabulary (textual inversion / DTI, METHODS.md §4).
/// A prompt names such a word as a `<…>` span (`"a red <my-bag>"`); the k-th name of the list
/// gets token id `vocabularySize + k`, whose input embedding is row k of a caller-supplied table
/// instead of a row of the frozen word-embedding table.
extension MiniLMEncoder {
    /// The `<…>` spans of `text` in order of appearance (no whitespace or angle brackets inside),
    /// e.g. `"a <a> and <b-2>"` -> `["<a>", "<b-2>"]`.
    public static func extraTokenNames(in text: String) -> [String] {
        extraTokenSpans(text).compactMap { $0.isName ? $0.text : nil }
    }

    /// Text split into plain segments and `<…>` names.
    static func extraTokenSpans(_ text: String) -> [(text: String, isName: Bool)] {
        var out: [(String, Bool)] = []
        var plain = "", i = text.startIndex
        while i < text.endIndex {
            if text[i] == "<", let close = text[text.index(after: i)...].firstIndex(where: { $0 == ">" || $0 == "<" || $0.isWhitespace }),
               text[close] == ">", close > text.index(after: i) {
                if !plain.isEmpty { out.append((plain, false)); plain = "" }
                out.append((String(text[i...close]), true))
                i = text.index(after: close)
            } else {
                plain.append(text[i]); i = text.index(after: i)
            }
        }
        if !plain.isEmpty { out.append((plain, false)) }
        return out
    }

    /// Token ids of `text` ([CLS] … [SEP], truncated to `maxLength`) where the span `names[k]`
    /// becomes the single id `vocabularySize + k`; other `<…>` spans are tokenised as plain text.
    public func tokenize(_ text: String, extraTokens names: [String]) -> [Int32] {
        let V = Int32(vocabularySize)
        var out: [Int32] = [tokenizer.clsID]
        for span in MiniLMEncoder.extraTokenSpans(text) {
            if span.isName, let k = names.firstIndex(of: span.text) {
                out.append(V + Int32(k))
            } else {
                for word in tokenizer.basicTokens(span.text) { out.append(contentsOf: tokenizer.wordPieces(word)) }
            }
        }
        if out.count > maxLength - 1 { out.removeLast(out.count - (maxLength - 1)) }
        out.append(tokenizer.sepID)
        return out
    }

    /// Input embeddings of ids that may include appended tokens. ids [T], extra [K, 384] -> [T, 384]
    public func inputEmbeddings(_ ids: [Int32], extra: [Float]) -> [Float] {
        let D = MiniLMEncoder.width, V = vocabularySize
        precondition(extra.count % D == 0, "extra table must be [K, \(D)]")
        var out = [Float](repeating: 0, count: ids.count * D)
        for (t, id) in ids.enumerated() {
            let i = Int(id)
            precondition(i >= 0 && i < V + extra.count / D, "token id \(id) outside vocabulary + \(extra.count / D) extra")
            for d in 0..<D { out[t * D + d] = i < V ? wordEmbeddings[i * D + d] : extra[(i - V) * D + d] }
        }
        return out
    }

    /// Per-token output features of `text` with appended tokens `names` (row k of `extra` is
    /// `names[k]`'s input embedding). extra [K, 384] -> (features [T, 384], T)
    public func tokenFeatures(_ text: String, extraTokens names: [String], extra: [Float]) -> (features: [Float], count: Int) {
        let ids = tokenize(text, extraTokens: names)
        return (tokenFeatures(inputEmbeddings: inputEmbeddings(ids, extra: extra), count: ids.count), ids.count)
    }

    /// Tokenises texts with appended tokens and pads them with [PAD] to the longest.
    /// -> (ids [B][T], mask [B, T] with 1 for real tokens)
    public func paddedBatch(_ texts: [String], extraTokens names: [String]) -> (ids: [[Int32]], mask: Tensor) {
        let toks = texts.map { tokenize($0, extraTokens: names) }
        let T = toks.map(\.count).max() ?? 1
        let ids = toks.map { $0 + [Int32](repeating: tokenizer.padID, count: T - $0.count) }
        let mask = Tensor(toks.flatMap { t in (0..<T).map { $0 < t.count ? Float(1) : 0 } }, shape: [texts.count, T])
        return (ids, mask)
    }

    /// Differentiable input embeddings with appended tokens: frozen vocabulary rows, and row k of
    /// `extra` wherever the id is `vocabularySize + k` (gradients flow to `extra`).
    /// ids [B][T] (equal lengths), extra [K, 384] -> [B, T, 384]
    public func inputEmbeddingTensor(_ ids: [[Int32]], extra: Tensor) -> Tensor {
        let D = MiniLMEncoder.width, V = vocabularySize
        precondition(extra.rank == 2 && extra.shape[1] == D, "extra must be [K, \(D)], got \(extra.shape)")
        let K = extra.shape[0], B = ids.count, T = ids.first?.count ?? 0
        precondition(ids.allSatisfy { $0.count == T }, "pad id rows to one length first (see paddedBatch)")
        let flat = ids.flatMap { $0.map(Int.init) }
        precondition(flat.allSatisfy { $0 >= 0 && $0 < V + K }, "token id outside vocabulary + \(K) extra")
        var keep = [Float](repeating: 1, count: B * T), pick = [Float](repeating: 0, count: B * T * K)
        for (i, id) in flat.enumerated() where id >= V { keep[i] = 0; pick[i * K + id - V] = 1 }
        let base = Tensor.gather(tensorWeights.word, ids: flat.map { $0 < V ? $0 : Int(tokenizer.padID) }, shape: [B, T])
        let added = Tensor(pick, shape: [B * T, K]).matmul(extra).reshaped([B, T, D])     // [B, T, D]
        return base * Tensor(keep, shape: [B, T, 1]) + added
    }
}
