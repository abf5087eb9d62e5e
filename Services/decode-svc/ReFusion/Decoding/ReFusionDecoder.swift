/// ReFusion slot-level plan-and-infill decoding (METHODS.md §5, "Decoding").
///
/// The response is cut into blocks of `blockSize` positions and each block into slots of
/// `slotSize`. Within a block, while slots remain masked:
/// (I) plan: one causal forward over [MASK] at every masked position of the block (after
///     the committed tokens) gives a draft per position; a slot's confidence is the
///     probability of its first draft token; slots above `slotThreshold` are selected
///     (at least the most confident one);
/// (II-a) verify: the selected drafts, concatenated in position order, run causally as clean
///     tokens; token j > 0 of a slot is checked by the logits of token j-1 of that slot, token 0
///     by its plan confidence; the longest prefix with every prob > `tokenThreshold` is
///     accepted and whole accepted slots are committed with the keys/values just computed;
/// (II-b) every remaining selected slot is completed on its own: keep its verified prefix
///     (at least one token), put the model's own next-token prediction (from the verify
///     logits) at the first unverified place, keep the remaining drafts — or, with
///     `refill`, re-mask and refill them from a [MASK] probe first (one extra forward) —,
///     verify, accept >= 1 token, repeat. Without refill an iteration costs one forward and
///     yields at least one token, so this phase is never slower than AR decoding.
/// Keys/values of accepted tokens are kept in the cache as computed (never recomputed);
/// [MASK] probes and rejected drafts are truncated away. [EOS] truncates: slots after it are
/// dropped. Committed tokens keep their original position ids; output is sorted by position.
public struct ReFusionDecoder {
    public let model: CausalTokenModel
    public let parameters: DecodeParameters
    /// Re-mask and refill the unverified suffix before each per-slot verify (II-b).
    public let refill: Bool

    public init(model: CausalTokenModel, parameters: DecodeParameters, refill: Bool = false) {
        self.model = model; self.parameters = parameters; self.refill = refill
    }

    /// Counters of one decode, beyond the output.
    public struct Stats: Sendable, Equatable {
        public var planForwards = 0
        public var verifyForwards = 0
        public var refillForwards = 0
        public var slotsAcceptedWhole = 0
        public var slotsCompletedIteratively = 0
    }

    public private(set) var stats = Stats()

    private final class State {
        let P: Int
        let L: Int
        var filled: [Int?]
        var eosAt: Int?
        var forwards = 0
        var pendingPrompt: [Int]
        let cache: DecodeCache
        init(prompt: [Int], maxTokens: Int, cache: DecodeCache) {
            P = prompt.count; L = maxTokens; filled = Array(repeating: nil, count: maxTokens)
            pendingPrompt = prompt; self.cache = cache
        }
        var limit: Int { eosAt ?? L }
    }

    public mutating func decode(prompt: [Int]) -> DecodeOutput {
        precondition(!prompt.isEmpty, "the prompt needs at least [BOS]")
        let k = parameters.slotSize, b = parameters.blockSize, L = parameters.maxTokens
        let s = State(prompt: prompt, maxTokens: L, cache: model.makeCache())
        stats = Stats()
        var blockStart = 0
        while blockStart < s.limit {
            let blockEnd = min(blockStart + b, L)
            var masked = stride(from: blockStart, to: blockEnd, by: k).map { $0..<min($0 + k, blockEnd) }
            while true {
                masked.removeAll { $0.lowerBound >= s.limit || s.filled[$0.lowerBound] != nil }
                if masked.isEmpty { break }
                decodeStep(masked: masked, s)
            }
            blockStart = blockEnd
        }
        let end = s.limit
        let tokens = (0..<end).map { s.filled[$0]! }
        return DecodeOutput(tokens: tokens, forwards: s.forwards, finished: s.eosAt != nil)
    }

    /// One forward; the prompt is prefilled together with the first call.
    private mutating func run(_ tokens: [Int], _ positions: [Int], _ s: State) -> Logits {
        s.forwards += 1
        if s.pendingPrompt.isEmpty { return model.forward(tokens: tokens, positions: positions, cache: s.cache) }
        let p = s.pendingPrompt
        s.pendingPrompt = []
        let all = model.forward(tokens: p + tokens, positions: Array(0..<p.count) + positions, cache: s.cache)
        let start = p.count * all.vocab
        return Logits(rows: tokens.count, vocab: all.vocab, values: Array(all.values[start...]))
    }

    /// Drafts (token, prob) at `positions` (response indices) from a [MASK] probe; the cache is restored.
    private mutating func probe(_ positions: [Int], _ s: State) -> [(token: Int, prob: Float)] {
        let keep = s.cache.count + s.pendingPrompt.count
        let logits = run([Int](repeating: CharVocabulary.mask, count: positions.count), positions.map { s.P + $0 }, s)
        s.cache.truncate(to: keep)
        return (0..<positions.count).map { logits.best($0, banned: ARDecoder.banned) }
    }

    /// Commits `token` at response index `i`; returns false when it is [EOS] (stop the slot).
    private func commit(_ i: Int, _ token: Int, _ s: State) -> Bool {
        s.filled[i] = token
        if token == CharVocabulary.eos {
            s.eosAt = min(s.eosAt ?? i, i)
            return false
        }
        return true
    }

    private mutating func decodeStep(masked: [Range<Int>], _ s: State) {
        let tauSlot = parameters.slotThreshold, tauToken = parameters.tokenThreshold
        // (I) plan
        let positions = masked.flatMap { Array($0) }
        let drafts = probe(positions, s)
        stats.planForwards += 1
        var offset = 0
        var slotDrafts: [(range: Range<Int>, tokens: [Int], conf: Float)] = []
        for r in masked {
            let d = drafts[offset..<(offset + r.count)]
            slotDrafts.append((r, d.map(\.token), d.first!.prob))
            offset += r.count
        }
        var selected = slotDrafts.filter { $0.conf > tauSlot }
        if selected.isEmpty { selected = [slotDrafts.max { $0.conf < $1.conf }!] }

        // (II-a) verify the concatenated drafts
        let base = s.cache.count + s.pendingPrompt.count
        let vTokens = selected.flatMap(\.tokens)
        let vPositions = selected.flatMap { $0.range.map { s.P + $0 } }
        let v = run(vTokens, vPositions, s)
        stats.verifyForwards += 1
        var probs: [Float] = []
        var row = 0
        for sel in selected {
            for j in 0..<sel.tokens.count {
                probs.append(j == 0 ? sel.conf : v.probability(row + j - 1, sel.tokens[j]))
            }
            row += sel.tokens.count
        }
        var accepted = 0
        while accepted < probs.count && probs[accepted] > tauToken && vTokens[accepted] != CharVocabulary.eos {
            accepted += 1
        }
        if accepted < probs.count && probs[accepted] > tauToken { accepted += 1 }   // an accepted [EOS] ends the prefix

        // commit whole accepted slots (their keys/values are already in the cache)
        var kept = 0
        var idx = 0
        while idx < selected.count && kept + selected[idx].tokens.count <= accepted {
            let sel = selected[idx]
            var cont = true
            for (j, t) in sel.tokens.enumerated() where cont { cont = commit(sel.range.lowerBound + j, t, s) }
            kept += sel.tokens.count
            idx += 1
            stats.slotsAcceptedWhole += 1
            if !cont { break }
        }
        if s.eosAt.map({ e in selected[..<idx].contains { $0.range.contains(e) } }) == true {
            s.cache.truncate(to: base + kept)
            return
        }
        guard idx < selected.count else { s.cache.truncate(to: base + kept); return }

        // (II-b) the first partly accepted slot keeps its verified prefix (>= 1 token) and its KV
        let first = selected[idx]
        let a = max(accepted - kept, 1)
        s.cache.truncate(to: base + kept + a)
        var alive = true
        for j in 0..<a where alive { alive = commit(first.range.lowerBound + j, first.tokens[j], s) }
        if alive && a < first.tokens.count {
            let next = v.best(kept + a - 1, banned: ARDecoder.banned)
            complete(first.range, drafts: first.tokens, accepted: a, nextPrediction: next.token, s)
        }
        stats.slotsCompletedIteratively += 1
        // later selected slots: verify their plan drafts afresh, then iterate
        for sel in selected[(idx + 1)...] where sel.range.lowerBound < s.limit {
            complete(sel.range, drafts: sel.tokens, accepted: 0, nextPrediction: nil, s)
            stats.slotsCompletedIteratively += 1
        }
    }

    /// Completes slot `range` whose first `accepted` tokens are committed (and cached).
    /// `nextPrediction` is the model's next-token prediction after them (nil when accepted == 0).
    private mutating func complete(_ range: Range<Int>, drafts: [Int], accepted: Int, nextPrediction: Int?,
                                   _ s: State) {
        let tau = parameters.tokenThreshold
        var d = drafts
        var a = accepted
        var next = nextPrediction
        if refill && a > 0 && d.count - a >= 2 {
            refillSuffix(range, &d, a, s)
        }
        while a < d.count {
            if let n = next { d[a] = n }
            let base = s.cache.count + s.pendingPrompt.count
            let suffix = Array(d[a...])
            let v = run(suffix, (range.lowerBound + a..<range.upperBound).map { s.P + $0 }, s)
            stats.verifyForwards += 1
            var m = 1
            while m < suffix.count && suffix[m - 1] != CharVocabulary.eos && v.probability(m - 1, suffix[m]) > tau { m += 1 }
            s.cache.truncate(to: base + m)
            for j in 0..<m where !commit(range.lowerBound + a + j, suffix[j], s) { return }
            a += m
            guard a < d.count else { return }
            next = v.best(m - 1, banned: ARDecoder.banned).token
            if refill && d.count - a >= 2 { refillSuffix(range, &d, a, s) }
        }
    }

    /// Re-masks positions a... of the slot and refills them from a [MASK] probe.
    private mutating func refillSuffix(_ range: Range<Int>, _ d: inout [Int], _ a: Int, _ s: State) {
        let pos = Array((range.lowerBound + a)..<range.upperBound)
        let r = probe(pos, s)
        stats.refillForwards += 1
        for (j, x) in r.enumerated() { d[a + j] = x.token }
    }
}
