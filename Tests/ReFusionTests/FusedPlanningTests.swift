import XCTest
import ComputeCore
@testable import ReFusion

/// The faithful decoder's plan fused into the previous verify forward (`fusesPlanning`): the
/// same decisions and tokens as separate plan forwards, one forward fewer per fused plan.
final class FusedPlanningTests: XCTestCase {
    let prompt = [CharVocabulary.bos, 7, 9, 5]

    /// Decodes with and without fusion; asserts the same tokens and the same decisions, and that
    /// each fused plan saved exactly one forward. Returns the fused decoder's stats.
    @discardableResult
    func assertSameDecoding(_ m: CausalTokenModel, _ p: DecodeParameters, _ label: String) -> ReFusionDecoder.Stats {
        var fused = ReFusionDecoder(model: m, parameters: p)
        var separate = ReFusionDecoder(model: m, parameters: p, fusesPlanning: false)
        let f = fused.decode(prompt: prompt), s = separate.decode(prompt: prompt)
        let (a, b) = (fused.stats, separate.stats)
        XCTAssertEqual(f.tokens, s.tokens, label)
        XCTAssertEqual(f.finished, s.finished, label)
        XCTAssertEqual(f.belowThresholdCommits, s.belowThresholdCommits, label)
        XCTAssertEqual(b.fusedPlans, 0, label)
        XCTAssertEqual(a.planForwards + a.fusedPlans, b.planForwards, "one plan per step either way: \(label)")
        XCTAssertEqual(a.verifyForwards, b.verifyForwards, label)
        XCTAssertEqual(a.refillForwards, b.refillForwards, label)
        XCTAssertEqual(a.slotsAcceptedWhole, b.slotsAcceptedWhole, label)
        XCTAssertEqual(a.slotsCompletedIteratively, b.slotsCompletedIteratively, label)
        XCTAssertEqual(s.forwards - f.forwards, a.fusedPlans, "each fused plan saves its forward: \(label)")
        XCTAssertEqual(f.forwards, a.prefillForwards + a.planForwards + a.verifyForwards + a.refillForwards, label)
        return a
    }

    /// RandomModel's [MASK] drafts hash the clean tokens they see: a fused plan taken from a
    /// verify forward whose candidate was not accepted whole (drafts conditioned on rejected
    /// tokens), or for other positions, would change drafts and so the decisions and, below
    /// tau_token 0.5, the tokens.
    func testFusedPlansDecodeExactlyLikeSeparatePlans() {
        var fusedPlans = 0, plansLeft = 0
        for seed in UInt64(1)...10 {
            let m = RandomModel(seed: seed)
            for (k, b) in [(1, 4), (2, 8), (4, 8), (4, 16), (8, 16), (3, 12)] {
                for (ts, tt) in [(Float(0), Float(0.2)), (0.3, 0.4), (0.5, 0.5), (0.5, 0.7), (0.9, 0.9), (1, 1)] {
                    let p = DecodeParameters(maxTokens: 40, slotSize: k, blockSize: b, slotThreshold: ts, tokenThreshold: tt)
                    let st = assertSameDecoding(m, p, "seed \(seed) k=\(k) b=\(b) tau_slot=\(ts) tau_token=\(tt)")
                    fusedPlans += st.fusedPlans; plansLeft += st.planForwards
                }
            }
        }
        XCTAssertGreaterThan(fusedPlans, 0, "some verifies were accepted whole and carried the next plan")
        XCTAssertGreaterThan(plansLeft, 0, "after a rejection the plan runs as its own forward")
    }

    /// Every slot accepted whole on its first verify: after the prefill's plan, each plan comes from
    /// the verify before it, across block boundaries.
    func testWholeAcceptanceNeedsOnePlanForward() {
        let m = RuleModel(eosPosition: 4 + 60)
        let p = DecodeParameters(maxTokens: 32, slotSize: 4, blockSize: 16, slotThreshold: 0.3, tokenThreshold: 0.3)
        let st = assertSameDecoding(m, p, "RuleModel")
        XCTAssertEqual(st.planForwards, 1)
        XCTAssertGreaterThan(st.fusedPlans, 0)
    }

    /// A real transformer with its key/value cache: the [MASK] rows a verify forward carries see
    /// the same keys/values as a separate plan forward, and their keys/values are truncated away.
    func testFusedPlansWithATransformerAndItsCache() {
        let m = TransformerLM(TransformerConfig.preset("tiny")!, seed: 5)
        m.head.weight.assign(m.head.weight * 40)   // sharpen the random head: no near-ties
        for (k, b, tau) in [(4, 8, Float(0.05)), (2, 8, 0.2), (8, 16, 0.5), (4, 16, 0)] {
            let p = DecodeParameters(maxTokens: 32, slotSize: k, blockSize: b, slotThreshold: tau, tokenThreshold: tau)
            assertSameDecoding(m, p, "k=\(k) b=\(b) tau=\(tau)")
        }
    }
}
