/// The draft-keeping variant of ReFusion decoding (`ReFusionDecoder.Variant.draftKeeping`),
/// kept for comparison with the faithful default. It departs from METHODS.md §5 in three
/// places, each counted in `Stats.unverifiedCommits`:
/// - a slot's first token is accepted on its plan confidence, never checked causally;
/// - the first partly accepted slot commits at least one draft token even when none verified;
/// - later selected slots commit their first draft token unchecked before iterating.
/// II-b keeps the remaining drafts after the model's own next-token prediction
/// (`.draftKeepingRefill`: re-masks and refills them from a [MASK] probe first). The prompt is
/// prefilled together with the first plan forward.
extension ReFusionDecoder {
    mutating func draftKeepingStep(masked: [Range<Int>], _ s: State) {
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
            stats.unverifiedCommits += 1   // token 0 was accepted on its plan confidence alone
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
        stats.unverifiedCommits += 1       // token 0 on plan confidence (or forced by "at least one")
        if alive && a < first.tokens.count {
            let next = v.best(kept + a - 1, banned: ARDecoder.banned)
            complete(first.range, drafts: first.tokens, accepted: a, nextPrediction: next, s)
        }
        stats.slotsCompletedIteratively += 1
        // later selected slots: verify their plan drafts afresh, then iterate
        for sel in selected[(idx + 1)...] where sel.range.lowerBound < s.limit {
            complete(sel.range, drafts: sel.tokens, accepted: 0, nextPrediction: nil, s)
            stats.slotsCompletedIteratively += 1
        }
    }

    /// Completes slot `range` whose first `accepted` tokens are committed (and cached).
    /// `nextPrediction` is the model's next-token prediction after them, with its probability
    /// (nil when accepted == 0); committed at or below tau_token it counts in `Stats.argmaxCommits`.
    private mutating func complete(_ range: Range<Int>, drafts: [Int], accepted: Int,
                                   nextPrediction: (token: Int, prob: Float)?, _ s: State) {
        let tau = parameters.tokenThreshold
        var d = drafts
        var a = accepted
        var next = nextPrediction
        if variant == .draftKeepingRefill && a > 0 && d.count - a >= 2 {
            refillSuffix(range, &d, a, s)
        }
        while a < d.count {
            if let n = next { d[a] = n.token }
            let base = s.cache.count + s.pendingPrompt.count
            let suffix = Array(d[a...])
            let v = run(suffix, (range.lowerBound + a..<range.upperBound).map { s.P + $0 }, s)
            stats.verifyForwards += 1
            var m = 1
            while m < suffix.count && suffix[m - 1] != CharVocabulary.eos && v.probability(m - 1, suffix[m]) > tau { m += 1 }
            s.cache.truncate(to: base + m)
            if let n = next { if n.prob <= tau { stats.argmaxCommits += 1 } }   // the causal argmax, forced
            else { stats.unverifiedCommits += 1 }                               // the slot's first draft, accepted unchecked
            for j in 0..<m where !commit(range.lowerBound + a + j, suffix[j], s) { return }
            a += m
            guard a < d.count else { return }
            next = v.best(m - 1, banned: ARDecoder.banned)
            if variant == .draftKeepingRefill && d.count - a >= 2 { refillSuffix(range, &d, a, s) }
        }
    }

    /// Re-masks positions a... of the slot and refills them from a [MASK] probe.
    private mutating func refillSuffix(_ range: Range<Int>, _ d: inout [Int], _ a: Int, _ s: State) {
        let r = probe(Array((range.lowerBound + a)..<range.upperBound), s)
        stats.refillForwards += 1
        for (j, x) in r.enumerated() { d[a + j] = x.token }
    }
}
