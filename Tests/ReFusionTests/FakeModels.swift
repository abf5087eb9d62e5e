import Foundation
@testable import ReFusion

/// Keys/values of the scripted models: the (token, position) pairs seen so far.
final class FakeCache: DecodeCache {
    var entries: [(token: Int, position: Int)] = []
    var count: Int { entries.count }
    func truncate(to length: Int) { entries.removeLast(max(entries.count - length, 0)) }
}

/// Logits over `vocab` tokens that give `token` probability `prob` and share the rest evenly.
func peakedLogits(vocab: Int, token: Int, prob: Float) -> [Float] {
    var row = [Float](repeating: 0, count: vocab)
    row[token] = log(prob * Float(vocab - 1) / (1 - prob))
    return row
}

/// A scripted causal model whose every prediction is the AR-greedy token of a fixed rule:
/// x[p+1] = 4 + (x[p] + 3 x[p-1] + p) mod 16, with [EOS] at position `eosPosition`.
/// A clean token at p predicts from the tokens it actually sees at p and p-1 (so wrong
/// positions or a wrong cache give wrong tokens); a [MASK] at p predicts the rule's token at
/// p from the prompt. Confidences vary with position so every branch of the decoders runs.
final class RuleModel: CausalTokenModel {
    let vocabSize = 20
    let eosPosition: Int
    private(set) var calls = 0

    init(eosPosition: Int) { self.eosPosition = eosPosition }

    func makeCache() -> DecodeCache { FakeCache() }

    static func rule(_ cur: Int, _ prev: Int, _ p: Int) -> Int { 4 + (cur + 3 * prev + p) % 16 }

    /// The rule's sequence after `prompt` up to position `upTo` (inclusive).
    func sequence(prompt: [Int], upTo: Int) -> [Int] {
        var x = prompt
        while x.count <= upTo {
            let p = x.count - 1
            x.append(p + 1 >= eosPosition ? CharVocabulary.eos : Self.rule(x[p], p > 0 ? x[p - 1] : 0, p))
        }
        return x
    }

    func confidence(_ p: Int, _ salt: Int) -> Float { 0.35 + Float((p * 7 + salt * 13) % 11) / 20 } // 0.35...0.85

    func forward(tokens: [Int], positions: [Int], cache: DecodeCache) -> Logits {
        calls += 1
        let c = cache as! FakeCache
        var values: [Float] = []
        for (t, p) in zip(tokens, positions) { c.entries.append((t, p)) }
        let visibleBase = c.entries.count - tokens.count
        for i in 0..<tokens.count {
            let visible = c.entries[0...(visibleBase + i)].filter { $0.token != CharVocabulary.mask }
            var at: [Int: Int] = [:]
            for e in visible { at[e.position] = e.token }
            let p = positions[i]
            let prompt = promptTokens(at)
            let token: Int
            let prob: Float
            if tokens[i] == CharVocabulary.mask {
                token = sequence(prompt: prompt, upTo: p)[p]
                prob = confidence(p, 1)
            } else if p + 1 >= eosPosition {
                token = CharVocabulary.eos; prob = confidence(p, 2)
            } else if let cur = at[p], p == 0 || at[p - 1] != nil {
                token = Self.rule(cur, p > 0 ? at[p - 1]! : 0, p); prob = confidence(p, 3)
            } else {
                token = sequence(prompt: prompt, upTo: p + 1)[p + 1]; prob = 0.3
            }
            values += peakedLogits(vocab: vocabSize, token: token, prob: prob)
        }
        return Logits(rows: tokens.count, vocab: vocabSize, values: values)
    }

    /// Prompts in these tests are [BOS] + three tokens.
    private func promptTokens(_ at: [Int: Int]) -> [Int] { (0..<4).map { at[$0] ?? 0 } }
}

/// A scripted causal model for the parallel-fill check: a [MASK] at position p predicts
/// 4 + (7p + sum of the clean tokens it sees) mod 16, or [EOS] at `eosPosition`.
final class FillModel: CausalTokenModel {
    let vocabSize = 20
    let eosPosition: Int
    init(eosPosition: Int) { self.eosPosition = eosPosition }
    func makeCache() -> DecodeCache { FakeCache() }

    static func fill(_ p: Int, visibleSum: Int, eosPosition: Int) -> Int {
        p == eosPosition ? CharVocabulary.eos : 4 + (7 * p + visibleSum) % 16
    }

    func forward(tokens: [Int], positions: [Int], cache: DecodeCache) -> Logits {
        let c = cache as! FakeCache
        for (t, p) in zip(tokens, positions) { c.entries.append((t, p)) }
        let base = c.entries.count - tokens.count
        var values: [Float] = []
        for i in 0..<tokens.count {
            let sum = c.entries[0...(base + i)].filter { $0.token != CharVocabulary.mask }.reduce(0) { $0 + $1.token }
            let tok = tokens[i] == CharVocabulary.mask
                ? Self.fill(positions[i], visibleSum: sum, eosPosition: eosPosition)
                : 4 + (positions[i] * 5) % 16
            values += peakedLogits(vocab: vocabSize, token: tok, prob: 0.2 + Float(positions[i] % 5) / 10)
        }
        return Logits(rows: tokens.count, vocab: vocabSize, values: values)
    }
}

/// Wraps `RuleModel`: in a forward with no clean response token (a plan probe, possibly after
/// the 4-token prompt) every [MASK] row is confidently wrong — it predicts the rule's token
/// shifted by one with probability 0.99. Every other row and call (causal verification, a
/// refill probe led by a clean response token) answers as `RuleModel` does.
final class WrongPlanModel: CausalTokenModel {
    let base: RuleModel
    var vocabSize: Int { base.vocabSize }
    init(eosPosition: Int) { base = RuleModel(eosPosition: eosPosition) }
    func makeCache() -> DecodeCache { base.makeCache() }

    static func wrong(_ t: Int) -> Int { t == CharVocabulary.eos ? 5 : 4 + (t - 4 + 1) % 16 }

    func forward(tokens: [Int], positions: [Int], cache: DecodeCache) -> Logits {
        var l = base.forward(tokens: tokens, positions: positions, cache: cache)
        guard !zip(tokens, positions).contains(where: { $0.0 != CharVocabulary.mask && $0.1 >= 4 }) else { return l }
        for i in 0..<l.rows where tokens[i] == CharVocabulary.mask {
            let row = peakedLogits(vocab: vocabSize, token: Self.wrong(l.best(i).token), prob: 0.99)
            l.values.replaceSubrange((i * l.vocab)..<((i + 1) * l.vocab), with: row)
        }
        return l
    }
}

/// A scripted bidirectional model for the MDM decoder: position P+i predicts `target[i]`
/// with confidence `0.2 + 0.07 * ((5 i) mod 11)` (distinct per position in a block of 11);
/// records the masked positions each call saw.
final class ScriptedBidirectionalModel: BidirectionalTokenModel {
    let vocabSize = 20
    let promptLength: Int
    let target: [Int]
    private(set) var maskedPerCall: [[Int]] = []
    init(promptLength: Int, target: [Int]) { self.promptLength = promptLength; self.target = target }

    func confidence(_ i: Int) -> Float { 0.2 + 0.07 * Float((5 * i) % 11) }

    func forward(tokens: [Int], positions: [Int]) -> Logits {
        maskedPerCall.append(tokens.indices.filter { tokens[$0] == CharVocabulary.mask }.map { $0 - promptLength })
        var values: [Float] = []
        for p in positions {
            let i = p - promptLength
            values += peakedLogits(vocab: vocabSize, token: i >= 0 ? target[i] : 4, prob: i >= 0 ? confidence(i) : 0.5)
        }
        return Logits(rows: tokens.count, vocab: vocabSize, values: values)
    }
}

/// A scripted causal model with pseudo-random predictions and confidences, fixed by `seed`:
/// a clean token at position p predicts a token hashed from the clean tokens it sees at
/// positions <= p (so its causal predictions depend on the committed prefix only, as a real
/// model's do); a [MASK] at p predicts a token hashed from p and the clean tokens it sees (a
/// plan draft that is right or wrong at random), with a random confidence in 0.3...0.99
/// either way. [EOS] comes up about once in `eosOdds` predictions.
final class RandomModel: CausalTokenModel {
    let vocabSize = 20
    let seed: UInt64
    let eosOdds: UInt64
    init(seed: UInt64, eosOdds: UInt64 = 40) { self.seed = seed; self.eosOdds = eosOdds }
    func makeCache() -> DecodeCache { FakeCache() }

    private func hash(_ xs: [Int]) -> UInt64 {
        var h = seed &* 0x9E37_79B9_7F4A_7C15
        for x in xs { h = SeededRandom.hash(h ^ UInt64(bitPattern: Int64(x))) }
        return h
    }

    private func row(_ h: UInt64) -> [Float] {
        let token = h % eosOdds == 0 ? CharVocabulary.eos : 4 + Int((h >> 8) % 16)
        let prob = 0.3 + Float((h >> 20) % 70) / 100
        return peakedLogits(vocab: vocabSize, token: token, prob: prob)
    }

    func forward(tokens: [Int], positions: [Int], cache: DecodeCache) -> Logits {
        let c = cache as! FakeCache
        for (t, p) in zip(tokens, positions) { c.entries.append((t, p)) }
        let base = c.entries.count - tokens.count
        var values: [Float] = []
        for i in 0..<tokens.count {
            let p = positions[i]
            let clean = c.entries[0...(base + i)].filter { $0.token != CharVocabulary.mask }
            if tokens[i] == CharVocabulary.mask {
                values += row(hash([-1, p] + clean.sorted { $0.position < $1.position }.map(\.token)))
            } else {
                let prefix = clean.filter { $0.position <= p }.sorted { $0.position < $1.position }
                values += row(hash([-2] + prefix.map(\.token) + prefix.map(\.position)))
            }
        }
        return Logits(rows: tokens.count, vocab: vocabSize, values: values)
    }
}
