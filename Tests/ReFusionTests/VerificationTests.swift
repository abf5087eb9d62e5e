import XCTest
@testable import ReFusion

/// The faithful ReFusion decoder's verification rules, the draft-keeping variant's counter
/// of unverified commits, and the MDM decoder.
final class VerificationTests: XCTestCase {
    let prompt = [CharVocabulary.bos, 7, 9, 5]

    func testConfidentButWrongPlanNeverCommitsAFirstToken() {
        let m = WrongPlanModel(eosPosition: 4 + 100)
        let ar = ARDecoder.decode(model: m, prompt: prompt, maxTokens: 16)
        let p = DecodeParameters(maxTokens: 16, slotSize: 4, blockSize: 8, slotThreshold: 0.5, tokenThreshold: 0.3)
        var faithful = ReFusionDecoder(model: m, parameters: p)
        let f = faithful.decode(prompt: prompt)
        XCTAssertEqual(f.tokens, ar.tokens, "every committed token passed a causal check")
        XCTAssertEqual(f.unverifiedCommits, 0)
        XCTAssertEqual(faithful.stats.unverifiedCommits, 0)
        // the draft-keeping variant commits each slot's confidently wrong first token
        var kept = ReFusionDecoder(model: m, parameters: p, variant: .draftKeeping)
        let k = kept.decode(prompt: prompt)
        XCTAssertEqual(k.tokens.first, WrongPlanModel.wrong(ar.tokens[0]))
        XCTAssertGreaterThan(k.unverifiedCommits, 0)
        XCTAssertEqual(k.unverifiedCommits, kept.stats.unverifiedCommits)
    }

    func testRefillRedraftsTheRejectedSuffix() {
        // Plan drafts are all wrong; the refill probe (led by the causal argmax) drafts right,
        // so each slot costs plan + rejected verify + refill + accepting verify. WrongPlanModel's
        // drafts are wrong only in a forward without clean response tokens, i.e. a plan of its
        // own: the plan is not fused into the verify here (FusedPlanningTests covers fusion).
        let m = WrongPlanModel(eosPosition: 4 + 100)
        let ar = ARDecoder.decode(model: m, prompt: prompt, maxTokens: 16)
        var d = ReFusionDecoder(model: m, parameters: DecodeParameters(maxTokens: 16, slotSize: 4, blockSize: 8,
                                                                       slotThreshold: 0.5, tokenThreshold: 0.3), fusesPlanning: false)
        let out = d.decode(prompt: prompt)
        XCTAssertEqual(out.tokens, ar.tokens)
        XCTAssertEqual(d.stats.refillForwards, 4)
        XCTAssertEqual(d.stats.verifyForwards, 8)
        XCTAssertEqual(d.stats.planForwards, 4)
        XCTAssertEqual(d.stats.slotsCompletedIteratively, 4)
        XCTAssertEqual(d.stats.slotsAcceptedWhole, 0)
        XCTAssertEqual(out.forwards, 1 + 16)
        XCTAssertEqual(d.stats.argmaxCommits, 0, "the argmax tokens were above tau_token")
        // at a tau_token no token reaches, II-b commits exactly the causal argmax, one per verify
        var strict = ReFusionDecoder(model: m, parameters: DecodeParameters(maxTokens: 16, slotSize: 4, blockSize: 8,
                                                                            slotThreshold: 0.5, tokenThreshold: 0.99))
        let s = strict.decode(prompt: prompt)
        XCTAssertEqual(s.tokens, ar.tokens)
        XCTAssertEqual(strict.stats.argmaxCommits, 16)
        XCTAssertEqual(s.unverifiedCommits, 0)
    }

    func testUnverifiedCommitCounterCountsPlanAcceptedFirstTokens() {
        // RuleModel at tau 0.3: every slot is accepted whole on the first verify; the
        // draft-keeping variant accepts each slot's first token on plan confidence: 8 slots.
        let m = RuleModel(eosPosition: 4 + 60)
        let p = DecodeParameters(maxTokens: 32, slotSize: 4, blockSize: 16, slotThreshold: 0.3, tokenThreshold: 0.3)
        var kept = ReFusionDecoder(model: m, parameters: p, variant: .draftKeeping)
        let k = kept.decode(prompt: prompt)
        XCTAssertEqual(k.tokens.count, 32)
        XCTAssertEqual(k.unverifiedCommits, 8)
        var faithful = ReFusionDecoder(model: m, parameters: p)
        let f = faithful.decode(prompt: prompt)
        XCTAssertEqual(f.tokens, k.tokens)
        XCTAssertEqual(f.unverifiedCommits, 0)
        // strict thresholds: the forced "at least one" draft adds unverified commits
        var strict = ReFusionDecoder(model: m, parameters: DecodeParameters(maxTokens: 32, slotSize: 4, blockSize: 16,
                                                                            slotThreshold: 0.99, tokenThreshold: 0.99),
                                     variant: .draftKeeping)
        XCTAssertGreaterThan(strict.decode(prompt: prompt).unverifiedCommits, 0)
    }

    func testMDMDecoderUnmasksByConfidenceBlockByBlock() {
        let target = [6, 7, 8, 9, 10, 11, CharVocabulary.eos, 12, 13, 14, 15, 16]
        // threshold 1: one token per forward, most confident first; stops after the EOS block
        let m = ScriptedBidirectionalModel(promptLength: prompt.count, target: target)
        let one = MDMDecoder.decode(model: m, prompt: prompt, maxTokens: 12, blockSize: 4, threshold: 1)
        XCTAssertEqual(one.tokens, Array(target[..<6]))
        XCTAssertTrue(one.finished)
        XCTAssertEqual(one.forwards, 8)
        // block 0 (positions 0-3): confidences 0.2, 0.55, 0.9, 0.45 -> unmasked in order 2, 1, 3, 0
        XCTAssertEqual(m.maskedPerCall[0], Array(0..<12))
        XCTAssertEqual(m.maskedPerCall[1], [0, 1, 3] + Array(4..<12))
        XCTAssertEqual(m.maskedPerCall[2], [0, 3] + Array(4..<12))
        XCTAssertEqual(m.maskedPerCall[3], [0] + Array(4..<12))
        XCTAssertEqual(m.maskedPerCall[4], Array(4..<12))
        // threshold 0: a whole block per forward
        let all = MDMDecoder.decode(model: ScriptedBidirectionalModel(promptLength: prompt.count, target: target),
                                    prompt: prompt, maxTokens: 12, blockSize: 4, threshold: 0)
        XCTAssertEqual(all.tokens, Array(target[..<6]))
        XCTAssertEqual(all.forwards, 2)
        // threshold 0.5 in block 0: 0.55 and 0.9 together, then 0.45, then 0.2 -> 3 forwards
        let mid = ScriptedBidirectionalModel(promptLength: prompt.count, target: target)
        _ = MDMDecoder.decode(model: mid, prompt: prompt, maxTokens: 4, blockSize: 4, threshold: 0.5)
        XCTAssertEqual(mid.maskedPerCall.count, 3)
        XCTAssertEqual(mid.maskedPerCall[1], [0, 3])
        // no EOS within max tokens: capped, not finished
        let capped = MDMDecoder.decode(model: ScriptedBidirectionalModel(promptLength: prompt.count, target: target),
                                       prompt: prompt, maxTokens: 5, blockSize: 4, threshold: 0)
        XCTAssertEqual(capped.tokens, Array(target[..<5]))
        XCTAssertFalse(capped.finished)
    }
}
