/// ReFusion slot-level plan-and-infill decoding (METHODS.md §5, "Decoding").
///
/// The response is cut into blocks of `blockSize` positions and each block into slots of
/// `slotSize`. The default `.faithful` variant verifies every committed token causally:
/// the prompt is prefilled (one forward) and the logits row of the last committed token (the
/// "frontier row") is kept. Within a block, while masked slots remain:
/// (I) plan: one causal forward over [MASK] at every masked position of the block gives a
///     draft per position; a slot's confidence is the probability of its first draft token;
///     slots above `slotThreshold` are selected (at least the most confident one);
/// (II-a) verify: the selected slots that continue the committed prefix without a gap run
///     causally as clean tokens, concatenated; EVERY draft token, a slot's first included, is
///     scored by the row that predicts its position (the frontier row or its predecessor's
///     row in this forward); the longest prefix with every prob > `tokenThreshold` is
///     committed with the keys/values just computed;
/// (II-b) if the chain was not accepted whole, the slot at the frontier is finished on its
///     own: its unverified suffix is re-masked; the first place takes the model's own causal
///     next-token prediction (the frontier row's argmax, exactly what AR greedy decoding
///     would commit), the rest is refilled by one [MASK] forward conditioned on it; the
///     candidate is verified causally and its longest prefix above `tokenThreshold` (at least
///     that argmax token) is committed; repeat until the slot is full.
/// A draft is committed only after a causal check, so committed tokens are always a
/// contiguous prefix in position order: a selected slot behind an unfilled gap has no row
/// that predicts its first token yet and is re-planned in a later step. Keys/values of
/// committed tokens are never recomputed; [MASK] probes and rejected drafts are truncated away.
/// Plan fused into verify (`fusesPlanning`, default on): every verify forward also carries
/// [MASK] at the positions the next plan would cover if the candidate is accepted whole (the
/// rest of the block, else the next block). In a causal model those rows see exactly the
/// keys/values a separate plan forward would see, so when the candidate is accepted whole they
/// are that plan, and the plan forward is skipped; otherwise they are dropped with the rejected
/// drafts. Same tokens, fewer forwards (a CPU forward has a fixed cost: the weights are read once).
/// [EOS] truncates. `Variant.draftKeeping` keeps the earlier, looser algorithm for comparison
/// (see `ReFusionDecoder+DraftKeeping.swift`); it counts its unverified commits.
public struct ReFusionDecoder {
    /// Which II-a/II-b rules run.
    public enum Variant: String, Sendable, CaseIterable {
        /// Every token verified causally, II-b re-masks and refills (the default).
        case faithful
        /// First tokens on plan confidence, "at least one" draft forced, II-b keeps drafts.
        case draftKeeping
        /// As `.draftKeeping`, but II-b re-masks and refills the suffix before each verify.
        case draftKeepingRefill
    }

    public let model: CausalTokenModel
    public let parameters: DecodeParameters
    public let variant: Variant
    /// Whether `.faithful` plans inside the previous verify forward (see above; the draft-keeping
    /// variants never do); false runs every plan as its own forward (the same tokens; for comparison).
    public var fusesPlanning = true

    public init(model: CausalTokenModel, parameters: DecodeParameters, variant: Variant = .faithful, fusesPlanning: Bool = true) {
        self.model = model; self.parameters = parameters; self.variant = variant; self.fusesPlanning = fusesPlanning
    }

    /// Counters of one decode, beyond the output. Forwards sum to `DecodeOutput.forwards`.
    public struct Stats: Sendable, Equatable {
        public var prefillForwards = 0
        /// Plans run as their own forward.
        public var planForwards = 0
        /// Plans taken from the previous verify forward (`fusesPlanning`): no forward of their own.
        public var fusedPlans = 0
        public var verifyForwards = 0
        public var refillForwards = 0
        /// Slots committed whole by one II-a verify.
        public var slotsAcceptedWhole = 0
        /// Slots finished by the II-b loop.
        public var slotsCompletedIteratively = 0
        /// Tokens committed in II-b as the causal argmax although their probability was not
        /// above tau_token (what greedy AR decoding would commit; causally checked): the
        /// "at least one token" fallback. Reported as `DecodeOutput.belowThresholdCommits`.
        public var argmaxCommits = 0
        /// Tokens committed without any causal check (only `.draftKeeping*`; 0 when faithful).
        public var unverifiedCommits = 0
    }

    public internal(set) var stats = Stats()

    final class State {
        let P: Int
        let L: Int
        var filled: [Int?]
        var eosAt: Int?
        var forwards = 0
        var pendingPrompt: [Int]
        let cache: DecodeCache
        /// The next plan's drafts from a verify forward accepted whole: valid for exactly these positions.
        var planned: (positions: [Int], drafts: [(token: Int, prob: Float)])?
        init(prompt: [Int], maxTokens: Int, cache: DecodeCache) {
            P = prompt.count; L = maxTokens; filled = Array(repeating: nil, count: maxTokens)
            pendingPrompt = prompt; self.cache = cache
        }
        var limit: Int { eosAt ?? L }
    }

    public mutating func decode(prompt: [Int]) -> DecodeOutput {
        precondition(!prompt.isEmpty, "the prompt needs at least [BOS]")
        let k = parameters.slotSize, L = parameters.maxTokens
        let s = State(prompt: prompt, maxTokens: L, cache: model.makeCache())
        stats = Stats()
        var frontierRow: Logits?
        if variant == .faithful {
            s.pendingPrompt = []
            let all = run(prompt, Array(0..<prompt.count), s)
            stats.prefillForwards += 1
            frontierRow = all.slice(all.rows - 1)
        }
        var blockStart = 0
        while blockStart < s.limit {
            let blockEnd = block(startingAt: blockStart).upperBound
            var masked = stride(from: blockStart, to: blockEnd, by: k).map { $0..<min($0 + k, blockEnd) }
            while true {
                masked.removeAll { $0.lowerBound >= s.limit || s.filled[$0.lowerBound] != nil }
                if masked.isEmpty { break }
                if variant == .faithful { faithfulStep(masked: masked, blockEnd: blockEnd, frontierRow: &frontierRow!, s) }
                else { draftKeepingStep(masked: masked, s) }
            }
            blockStart = blockEnd
        }
        let end = s.limit
        let tokens = (0..<end).map { s.filled[$0]! }
        // tokens after [EOS] that a draft-keeping step committed unverified are dropped with it; the count stays conservative
        return DecodeOutput(tokens: tokens, forwards: s.forwards, finished: s.eosAt != nil,
                            unverifiedCommits: stats.unverifiedCommits, belowThresholdCommits: stats.argmaxCommits)
    }

    /// One forward; a still pending prompt is prefilled together with this call.
    mutating func run(_ tokens: [Int], _ positions: [Int], _ s: State) -> Logits {
        s.forwards += 1
        if s.pendingPrompt.isEmpty { return model.forward(tokens: tokens, positions: positions, cache: s.cache) }
        let p = s.pendingPrompt
        s.pendingPrompt = []
        let all = model.forward(tokens: p + tokens, positions: Array(0..<p.count) + positions, cache: s.cache)
        let start = p.count * all.vocab
        return Logits(rows: tokens.count, vocab: all.vocab, values: Array(all.values[start...]))
    }

    /// Drafts (token, prob) at `positions` (response indices) from a [MASK] probe after the
    /// cache and the clean `lead` tokens (at `leadPositions`); the cache is restored.
    mutating func probe(_ positions: [Int], _ s: State, lead: [Int] = [], leadPositions: [Int] = []) -> [(token: Int, prob: Float)] {
        let keep = s.cache.count + s.pendingPrompt.count
        let logits = run(lead + [Int](repeating: CharVocabulary.mask, count: positions.count),
                         leadPositions + positions.map { s.P + $0 }, s)
        s.cache.truncate(to: keep)
        return (0..<positions.count).map { logits.best(lead.count + $0, banned: ARDecoder.banned) }
    }

    /// The block of response indices that starts at `start` (the last one may be shorter).
    func block(startingAt start: Int) -> Range<Int> { start..<min(start + parameters.blockSize, parameters.maxTokens) }

    /// The positions the next plan covers once everything before response index `end` is
    /// committed: the rest of the block, else the whole next block.
    func nextPlanPositions(after end: Int, blockEnd: Int) -> [Int] {
        end < blockEnd ? Array(end..<blockEnd) : Array(block(startingAt: blockEnd))
    }

    /// A causal verify forward over `tokens` at response indices `start...`; with `fusesPlanning`,
    /// [MASK] at the next plan's positions follow them, and their drafts become `s.planned`, which
    /// the caller clears unless it accepts `tokens` whole. Returns the tokens' rows; the caller
    /// truncates the cache to what it commits (the masks' keys/values go with the rejected drafts).
    mutating func verify(_ tokens: [Int], at start: Int, blockEnd: Int, _ s: State) -> Logits {
        let next = fusesPlanning ? nextPlanPositions(after: start + tokens.count, blockEnd: blockEnd) : []
        let all = run(tokens + [Int](repeating: CharVocabulary.mask, count: next.count),   // [n + next, vocab]
                      (start..<(start + tokens.count)).map { s.P + $0 } + next.map { s.P + $0 }, s)
        stats.verifyForwards += 1
        s.planned = nil
        if next.isEmpty { return all }
        s.planned = (next, next.indices.map { all.best(tokens.count + $0, banned: ARDecoder.banned) })
        return Logits(rows: tokens.count, vocab: all.vocab, values: Array(all.values[..<(tokens.count * all.vocab)]))   // [n, vocab]
    }

    /// Commits `token` at response index `i`; returns false when it is [EOS] (stop the slot).
    func commit(_ i: Int, _ token: Int, _ s: State) -> Bool {
        s.filled[i] = token
        if token == CharVocabulary.eos {
            s.eosAt = min(s.eosAt ?? i, i)
            return false
        }
        return true
    }

    /// Longest prefix of `tokens` whose probabilities all exceed tau; an accepted [EOS] ends it.
    static func acceptedPrefix(_ tokens: [Int], _ probs: [Float], tau: Float) -> Int {
        var n = 0
        while n < tokens.count && probs[n] > tau {
            n += 1
            if tokens[n - 1] == CharVocabulary.eos { break }
        }
        return n
    }

    /// One plan + verify (+ II-b) step of the faithful variant; commits >= 1 token.
    private mutating func faithfulStep(masked: [Range<Int>], blockEnd: Int, frontierRow: inout Logits, _ s: State) {
        let tau = parameters.tokenThreshold
        let frontier = masked[0].lowerBound      // commits are contiguous: the first masked slot starts there
        // (I) plan: from the last verify forward when it was accepted whole, else a forward of its own
        let positions = masked.flatMap { Array($0) }
        let drafts: [(token: Int, prob: Float)]
        if let planned = s.planned, planned.positions == positions {
            drafts = planned.drafts
            stats.fusedPlans += 1
        } else {
            drafts = probe(positions, s)
            stats.planForwards += 1
        }
        s.planned = nil
        var slotDrafts: [(range: Range<Int>, tokens: [Int], conf: Float)] = []
        var offset = 0
        for r in masked {
            let d = drafts[offset..<(offset + r.count)]
            slotDrafts.append((r, d.map(\.token), d.first!.prob))
            offset += r.count
        }
        var selected = slotDrafts.filter { $0.conf > parameters.slotThreshold }
        if selected.isEmpty { selected = [slotDrafts.max { $0.conf < $1.conf }!] }
        // (II-a) the selected slots that continue the committed prefix without a gap
        var chain: [(range: Range<Int>, tokens: [Int], conf: Float)] = []
        for sel in selected where sel.range.lowerBound == (chain.last?.range.upperBound ?? frontier) { chain.append(sel) }
        var committed = 0
        if !chain.isEmpty {
            let tokens = chain.flatMap(\.tokens)
            let base = s.cache.count
            let v = verify(tokens, at: frontier, blockEnd: blockEnd, s)   // the chain is contiguous from the frontier
            let probs = tokens.indices.map { i in i == 0 ? frontierRow.probability(0, tokens[0]) : v.probability(i - 1, tokens[i]) }
            committed = Self.acceptedPrefix(tokens, probs, tau: tau)
            s.cache.truncate(to: base + committed)
            for j in 0..<committed where !commit(frontier + j, tokens[j], s) { return }
            if committed > 0 { frontierRow = v.slice(committed - 1) }
            stats.slotsAcceptedWhole += chain.reduce(into: (0, 0)) { acc, c in
                if acc.1 + c.tokens.count <= committed { acc.0 += 1 }
                acc.1 += c.tokens.count
            }.0
            if committed == tokens.count { return }   // the fused plan (s.planned) stays valid
            s.planned = nil
        }
        // (II-b) finish the slot at the new frontier
        let at = frontier + committed
        guard let slot = masked.first(where: { $0.contains(at) }) else { return }
        finishSlot(slot, from: at, blockEnd: blockEnd, frontierRow: &frontierRow, s)
        stats.slotsCompletedIteratively += 1
    }

    /// II-b: re-mask positions `from..<slot.upperBound`, put the causal argmax first, refill the
    /// rest conditioned on it, verify causally, commit the accepted prefix; until the slot is full.
    private mutating func finishSlot(_ slot: Range<Int>, from: Int, blockEnd: Int, frontierRow: inout Logits, _ s: State) {
        let tau = parameters.tokenThreshold
        var at = from
        while at < slot.upperBound && s.eosAt == nil {
            let first = frontierRow.best(0, banned: ARDecoder.banned)
            if first.token == CharVocabulary.eos {          // the causal argmax ends the response: no forward needed
                if first.prob <= tau { stats.argmaxCommits += 1 }
                _ = commit(at, first.token, s)
                return
            }
            var candidate = [first.token]
            if at + 1 < slot.upperBound {
                let refill = probe(Array((at + 1)..<slot.upperBound), s, lead: [first.token], leadPositions: [s.P + at])
                stats.refillForwards += 1
                candidate += refill.map(\.token)
            }
            let base = s.cache.count
            let v = verify(candidate, at: at, blockEnd: blockEnd, s)
            var probs = candidate.indices.map { i in i == 0 ? first.prob : v.probability(i - 1, candidate[i]) }
            if probs[0] <= tau { stats.argmaxCommits += 1; probs[0] = .infinity }   // the causal argmax: at least one token
            let m = Self.acceptedPrefix(candidate, probs, tau: tau)
            if m < candidate.count { s.planned = nil }   // drafts conditioned on rejected tokens
            s.cache.truncate(to: base + m)
            frontierRow = v.slice(m - 1)
            for j in 0..<m where !commit(at + j, candidate[j], s) { return }
            at += m
        }
    }
}
