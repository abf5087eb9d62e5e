import ComputeCore
import Foundation
import Models

/// Frozen MiniLM (all-MiniLM-L6-v2) token features of prompts, the generator's cross-attention
/// context, cached per string. A prompt's features are computed alone (`features(of:)`) or with
/// other captions of similar length (`features(_:batch:)`, for training caches); either way they
/// never depend on the other prompts of a generation request.
public final class PromptEncoder: @unchecked Sendable {
    public let encoder: MiniLMEncoder
    private var cache: [String: TextFeatures] = [:]
    private let lock = NSLock()

    public init(encoder: MiniLMEncoder) { self.encoder = encoder }

    /// The shared MiniLM from the prepared models folder (prompts truncated to 32 tokens).
    public static func miniLM() throws -> PromptEncoder { PromptEncoder(encoder: try MiniLMEncoder(maxLength: 32)) }

    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var sharedEncoder: PromptEncoder?

    /// The process's one `miniLM()` encoder, loaded on first use (services share it and its cache).
    public static func shared() throws -> PromptEncoder {
        sharedLock.lock(); defer { sharedLock.unlock() }
        if let e = sharedEncoder { return e }
        let e = try miniLM()
        sharedEncoder = e
        return e
    }

    /// Token features of one prompt ([CLS] … [SEP]). -> [length, 384]
    public func features(of text: String) -> TextFeatures {
        lock.lock(); defer { lock.unlock() }
        if let f = cache[text] { return f }
        let ids = encoder.tokenize(text)
        let f = TextFeatures(values: encoder.tokenFeatures(ids: ids), length: ids.count, dim: MiniLMEncoder.width)
        cache[text] = f
        return f
    }

    /// Token features of many captions, run in padded batches of about `batch` texts of similar
    /// length (fast path for training caches); same order as `texts`.
    public func features(_ texts: [String], batch: Int = 64) -> [TextFeatures] {
        let D = MiniLMEncoder.width
        let lengths = texts.map { encoder.tokenize($0).count }
        let order = texts.indices.sorted { lengths[$0] < lengths[$1] }
        var out = [TextFeatures?](repeating: nil, count: texts.count)
        var start = 0
        while start < order.count {
            let idx = Array(order[start..<min(start + batch, order.count)])
            let (ids, mask) = encoder.paddedBatch(idx.map { texts[$0] })
            let feats = withNoGrad { encoder.tokenFeatures(encoder.inputEmbeddingTensor(ids), keyPadding: mask) }
            let T = ids[0].count, all = feats.array
            for (r, i) in idx.enumerated() {
                let n = lengths[i]
                out[i] = TextFeatures(values: Array(all[(r * T * D)..<((r * T + n) * D)]), length: n, dim: D)
            }
            start += batch
        }
        return out.map { $0! }
    }

    /// The `<…>` concept tokens of a prompt (learned words, personalize-svc), in order.
    public static func conceptNames(in text: String) -> [String] { MiniLMEncoder.extraTokenNames(in: text) }

    /// Token features of a prompt whose `names[k]` is an appended word with input embedding row k
    /// of `embeddings` (DTI / textual-inversion concepts; not cached). embeddings [K, 384] -> [length, 384]
    public func features(of text: String, concepts names: [String], embeddings: [Float]) -> TextFeatures {
        if names.isEmpty { return features(of: text) }
        let (f, n) = encoder.tokenFeatures(text, extraTokens: names, extra: embeddings)
        return TextFeatures(values: f, length: n, dim: MiniLMEncoder.width)
    }
}
