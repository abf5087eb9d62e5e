import XCTest
@testable import ReFusion

/// Properties of the faithful ReFusion decoder on models with random plans, and the
/// below-threshold ("at least one token") counters of ReFusion and MDM.
final class FaithfulDecodingTests: XCTestCase {
    let prompt = [CharVocabulary.bos, 7, 9, 5]

    /// With tau_token >= 0.5 a token is accepted only when it is the causal argmax (prob > 0.5),
    /// and II-b commits the causal argmax: the faithful decoder must equal greedy AR decoding for
    /// ANY model, whatever its plan drafts. Any token committed on plan confidence alone (a
    /// slot's first token) would break this on random plans.
    func testFaithfulDecoderEqualsGreedyARWhateverThePlan() {
        var draftKeepingDiffered = 0, draftKeepingUnverified = 0
        for seed in UInt64(1)...12 {
            let m = RandomModel(seed: seed)
            let ar = ARDecoder.decode(model: m, prompt: prompt, maxTokens: 40)
            for (k, b) in [(1, 4), (2, 8), (4, 8), (4, 16), (8, 16), (3, 12)] {
                for (ts, tt) in [(Float(0), Float(0.5)), (0.3, 0.6), (0.5, 0.7), (0.9, 0.9), (1, 1)] {
                    let p = DecodeParameters(maxTokens: 40, slotSize: k, blockSize: b, slotThreshold: ts, tokenThreshold: tt)
                    var d = ReFusionDecoder(model: m, parameters: p)
                    let out = d.decode(prompt: prompt)
                    let label = "seed \(seed) k=\(k) b=\(b) tau_slot=\(ts) tau_token=\(tt)"
                    XCTAssertEqual(out.tokens, ar.tokens, label)
                    XCTAssertEqual(out.finished, ar.finished, label)
                    XCTAssertEqual(out.unverifiedCommits, 0, label)
                    XCTAssertEqual(out.belowThresholdCommits, d.stats.argmaxCommits, label)
                    XCTAssertLessThanOrEqual(out.belowThresholdCommits, out.tokens.count + 1, label)
                    let st = d.stats
                    XCTAssertEqual(out.forwards, st.prefillForwards + st.planForwards + st.verifyForwards + st.refillForwards, label)
                    var kept = ReFusionDecoder(model: m, parameters: p, variant: .draftKeeping)
                    let dk = kept.decode(prompt: prompt)
                    if dk.tokens != ar.tokens { draftKeepingDiffered += 1 }
                    draftKeepingUnverified += dk.unverifiedCommits
                }
            }
        }
        // the same random plans do mislead the draft-keeping variant, which counts what it committed unchecked
        XCTAssertGreaterThan(draftKeepingDiffered, 0)
        XCTAssertGreaterThan(draftKeepingUnverified, 0)
    }

    /// At tau_token = 1 nothing verifies: every committed token is the causal argmax committed
    /// by the fallback, each counted once (the terminating [EOS] too).
    func testFallbackCommitsAreCountedInTheOutput() {
        let m = RuleModel(eosPosition: 4 + 10)
        let ar = ARDecoder.decode(model: m, prompt: prompt, maxTokens: 32)
        XCTAssertTrue(ar.finished)
        var strict = ReFusionDecoder(model: m, parameters: DecodeParameters(maxTokens: 32, slotSize: 4, blockSize: 8,
                                                                            slotThreshold: 1, tokenThreshold: 1))
        let s = strict.decode(prompt: prompt)
        XCTAssertEqual(s.tokens, ar.tokens)
        XCTAssertEqual(s.belowThresholdCommits, ar.tokens.count + 1, "every token and the [EOS]")
        XCTAssertEqual(s.unverifiedCommits, 0)
        // at tau 0.3 RuleModel's rows (0.35...0.85) all verify: no fallback
        var loose = ReFusionDecoder(model: m, parameters: DecodeParameters(maxTokens: 32, slotSize: 4, blockSize: 8,
                                                                           slotThreshold: 0.3, tokenThreshold: 0.3))
        XCTAssertEqual(loose.decode(prompt: prompt).belowThresholdCommits, 0)
        // the draft-keeping variant's forced causal argmax counts too
        var kept = ReFusionDecoder(model: m, parameters: strict.parameters, variant: .draftKeeping)
        let k = kept.decode(prompt: prompt)
        XCTAssertGreaterThan(k.belowThresholdCommits, 0)
        XCTAssertEqual(k.belowThresholdCommits, kept.stats.argmaxCommits)
    }

    func testMDMCountsItsAtLeastOneUnmasking() {
        let target = [6, 7, 8, 9, 10, 11, CharVocabulary.eos, 12, 13, 14, 15, 16]
        // threshold 1: every unmasking is the fallback; counted up to and including the [EOS] (index 6),
        // not position 7, which the [EOS] truncates
        let one = MDMDecoder.decode(model: ScriptedBidirectionalModel(promptLength: prompt.count, target: target),
                                    prompt: prompt, maxTokens: 12, blockSize: 4, threshold: 1)
        XCTAssertEqual(one.tokens.count, 6)
        XCTAssertEqual(one.belowThresholdCommits, 7)
        let all = MDMDecoder.decode(model: ScriptedBidirectionalModel(promptLength: prompt.count, target: target),
                                    prompt: prompt, maxTokens: 12, blockSize: 4, threshold: 0)
        XCTAssertEqual(all.belowThresholdCommits, 0)
        // threshold 0.5, block 0 (confidences 0.2, 0.55, 0.9, 0.45): 0.55 and 0.9 pass, 0.45 and 0.2 are forced
        let mid = MDMDecoder.decode(model: ScriptedBidirectionalModel(promptLength: prompt.count, target: target),
                                    prompt: prompt, maxTokens: 4, blockSize: 4, threshold: 0.5)
        XCTAssertEqual(mid.belowThresholdCommits, 2)
        XCTAssertEqual(mid.unverifiedCommits, 0)
    }
}
