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
}
