/// Logits of a forward pass, row-major `[rows, vocab]`.
public struct Logits: Sendable {
    public let rows: Int
    public let vocab: Int
    public var values: [Float]

    public init(rows: Int, vocab: Int, values: [Float]) {
        precondition(values.count == rows * vocab, "logits need rows*vocab values")
        self.rows = rows; self.vocab = vocab; self.values = values
    }

    public func row(_ i: Int) -> ArraySlice<Float> { values[(i * vocab)..<((i + 1) * vocab)] }

    /// Softmax probabilities of row `i`.
    public func probabilities(_ i: Int) -> [Float] {
        let r = row(i)
        let m = r.max() ?? 0
        var e = r.map { Foundation_exp($0 - m) }
        let s = e.reduce(0, +)
        for j in e.indices { e[j] /= s }
        return e
    }

    /// The most probable token of row `i`, never one of `banned`, with its probability.
    public func best(_ i: Int, banned: Set<Int> = []) -> (token: Int, prob: Float) {
        let p = probabilities(i)
        var bt = -1
        var bp: Float = -1
        for (j, v) in p.enumerated() where !banned.contains(j) && v > bp { bt = j; bp = v }
        return (bt, bp)
    }

    /// Row `i` alone, as logits `[1, vocab]`.
    public func slice(_ i: Int) -> Logits { Logits(rows: 1, vocab: vocab, values: Array(row(i))) }

    /// Probability of `token` in row `i`.
    public func probability(_ i: Int, _ token: Int) -> Float { probabilities(i)[token] }
}

@inline(__always) func Foundation_exp(_ x: Float) -> Float { expf(x) }

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The keys/values a causal model has computed so far, in physical order.
public protocol DecodeCache: AnyObject {
    /// Number of cached tokens.
    var count: Int { get }
    /// Drops every cached token after the first `length` (rejected drafts, [MASK] probes).
    func truncate(to length: Int)
}

/// A causal language model with a KV cache: what the AR and ReFusion decoders drive.
public protocol CausalTokenModel: AnyObject {
    var vocabSize: Int { get }
    func makeCache() -> DecodeCache
    /// Runs `tokens` (with their RoPE `positions`) after the cached ones; token i attends to
    /// the whole cache and to tokens 0...i of this call. Appends their keys/values to `cache`
    /// and returns logits `[tokens.count, vocab]`.
    func forward(tokens: [Int], positions: [Int], cache: DecodeCache) -> Logits
}

/// A bidirectional model (masked diffusion): every token attends to every token.
public protocol BidirectionalTokenModel: AnyObject {
    var vocabSize: Int { get }
    /// Logits `[tokens.count, vocab]` for the whole sequence.
    func forward(tokens: [Int], positions: [Int]) -> Logits
}

/// Wraps a causal model so every call recomputes the whole history without reusing keys
/// and values: the reference that KV-cached decoding must equal.
public final class RecomputingModel: CausalTokenModel {
    public let base: CausalTokenModel

    public init(_ base: CausalTokenModel) { self.base = base }

    public final class History: DecodeCache {
        var tokens: [Int] = []
        var positions: [Int] = []
        public var count: Int { tokens.count }
        public func truncate(to length: Int) {
            tokens.removeLast(max(tokens.count - length, 0)); positions.removeLast(max(positions.count - length, 0))
        }
    }

    public var vocabSize: Int { base.vocabSize }
    public func makeCache() -> DecodeCache { History() }

    public func forward(tokens: [Int], positions: [Int], cache: DecodeCache) -> Logits {
        guard let h = cache as? History else { preconditionFailure("RecomputingModel needs its own History cache") }
        h.tokens += tokens; h.positions += positions
        let fresh = base.makeCache()
        let all = base.forward(tokens: h.tokens, positions: h.positions, cache: fresh)
        let start = (h.tokens.count - tokens.count) * all.vocab
        return Logits(rows: tokens.count, vocab: all.vocab, values: Array(all.values[start...]))
    }
}
