import XCTest
@testable import ReFusion

final class DecoderTests: XCTestCase {
    let prompt = [CharVocabulary.bos, 7, 9, 5]

    func testARDecoderFollowsRuleAndStopsAtEOS() {
        let m = RuleModel(eosPosition: 4 + 11)
        let out = ARDecoder.decode(model: m, prompt: prompt, maxTokens: 40)
        let expected = Array(m.sequence(prompt: prompt, upTo: 14)[4...])
        XCTAssertEqual(out.tokens, expected)
        XCTAssertEqual(out.tokens.count, 11)
        XCTAssertTrue(out.finished)
        XCTAssertEqual(out.forwards, 12)   // prefill + one per generated token (the last predicts EOS)
        let capped = ARDecoder.decode(model: m, prompt: prompt, maxTokens: 5)
        XCTAssertEqual(capped.tokens, Array(expected.prefix(5)))
        XCTAssertFalse(capped.finished)
    }

    func testReFusionWithARConsistentModelReproducesARGreedy() {
        for eos in [4 + 9, 4 + 23, 4 + 60] {
            let m = RuleModel(eosPosition: eos)
            let ar = ARDecoder.decode(model: m, prompt: prompt, maxTokens: 32)
            for (k, b) in [(1, 4), (2, 8), (4, 8), (4, 16), (8, 16), (3, 9)] {
                for (ts, tt) in [(Float(0), Float(0)), (0.5, 0.5), (0.6, 0.8), (1, 1), (0.9, 0.3)] {
                  for variant in ReFusionDecoder.Variant.allCases {
                    var d = ReFusionDecoder(model: m, parameters: DecodeParameters(
                        maxTokens: 32, slotSize: k, blockSize: b, slotThreshold: ts, tokenThreshold: tt), variant: variant)
                    let out = d.decode(prompt: prompt)
                    XCTAssertEqual(out.tokens, ar.tokens, "k=\(k) b=\(b) tau_slot=\(ts) tau_token=\(tt) eos=\(eos) \(variant)")
                    XCTAssertEqual(out.finished, ar.finished)
                    let st = d.stats
                    XCTAssertEqual(out.forwards, st.prefillForwards + st.planForwards + st.verifyForwards + st.refillForwards)
                    if variant == .draftKeeping { XCTAssertEqual(st.refillForwards, 0) }
                    if variant == .faithful { XCTAssertEqual(out.unverifiedCommits, 0) }
                  }
                }
            }
        }
    }

    func testReFusionLowThresholdsDecodeSeveralTokensPerForward() {
        let m = RuleModel(eosPosition: 4 + 60)
        var d = ReFusionDecoder(model: m, parameters: DecodeParameters(
            maxTokens: 32, slotSize: 4, blockSize: 16, slotThreshold: 0.3, tokenThreshold: 0.3))
        let out = d.decode(prompt: prompt)
        XCTAssertEqual(out.tokens.count, 32)
        // prefill, one plan, then per block one verify accepting all four slots; the first block's
        // verify carries the second block's plan (fused planning)
        XCTAssertEqual(out.forwards, 4)
        XCTAssertEqual(out.tokensPerForward, 8.0)
        XCTAssertEqual(d.stats.fusedPlans, 1)
        XCTAssertEqual(d.stats.slotsAcceptedWhole, 8)
        // strict thresholds fall back to per-slot completion and need more forwards
        var strict = ReFusionDecoder(model: m, parameters: DecodeParameters(
            maxTokens: 32, slotSize: 4, blockSize: 16, slotThreshold: 0.99, tokenThreshold: 0.99))
        let s = strict.decode(prompt: prompt)
        XCTAssertEqual(s.tokens, out.tokens)
        XCTAssertGreaterThan(s.forwards, 8)
        XCTAssertGreaterThan(strict.stats.slotsCompletedIteratively, 0)
        // every II-b verify commits at least one token; refills re-draft the rejected suffixes
        XCTAssertLessThanOrEqual(strict.stats.verifyForwards, s.tokens.count + strict.stats.planForwards + strict.stats.fusedPlans)
        XCTAssertGreaterThan(strict.stats.refillForwards, 0)
        var kept = ReFusionDecoder(model: m, parameters: strict.parameters, variant: .draftKeeping)
        let r = kept.decode(prompt: prompt)
        XCTAssertEqual(r.tokens, out.tokens)
        XCTAssertEqual(r.forwards, kept.stats.planForwards + kept.stats.verifyForwards)
    }

    func testAcceptEverythingEqualsParallelFill() {
        for (k, b, eos) in [(4, 8, 4 + 13), (2, 8, 4 + 100), (4, 16, 4 + 3), (1, 4, 4 + 6)] {
            let m = FillModel(eosPosition: eos)
            let L = 24
            var d = ReFusionDecoder(model: m, parameters: DecodeParameters(
                maxTokens: L, slotSize: k, blockSize: b, slotThreshold: 0, tokenThreshold: 0))
            let out = d.decode(prompt: prompt)
            // independent parallel fill: each block's masks see the prompt and earlier blocks
            var committed = prompt
            var expected: [Int] = []
            var blocks = 0
            fill: for start in stride(from: 0, to: L, by: b) {
                blocks += 1
                let sum = committed.reduce(0, +)
                let block = (start..<min(start + b, L)).map {
                    FillModel.fill(prompt.count + $0, visibleSum: sum, eosPosition: eos)
                }
                for t in block {
                    if t == CharVocabulary.eos { break fill }
                    expected.append(t)
                }
                committed += block
            }
            XCTAssertEqual(out.tokens, expected, "k=\(k) b=\(b)")
            XCTAssertEqual(out.finished, eos - 4 < L)
            XCTAssertEqual(out.forwards, 2 + blocks, "the prefill, one plan, then one verify per block carrying the next block's plan")
            XCTAssertEqual(d.stats.fusedPlans, blocks - 1, "k=\(k) b=\(b)")
        }
    }

    func testKVCacheDecodingEqualsRecomputation() {
        let m = RuleModel(eosPosition: 4 + 27)
        let r = RecomputingModel(m)
        XCTAssertEqual(ARDecoder.decode(model: m, prompt: prompt, maxTokens: 30),
                       ARDecoder.decode(model: r, prompt: prompt, maxTokens: 30))
        let p = DecodeParameters(maxTokens: 30, slotSize: 3, blockSize: 12, slotThreshold: 0.6, tokenThreshold: 0.6)
        for v in ReFusionDecoder.Variant.allCases {
            var a = ReFusionDecoder(model: m, parameters: p, variant: v), b = ReFusionDecoder(model: r, parameters: p, variant: v)
            XCTAssertEqual(a.decode(prompt: prompt), b.decode(prompt: prompt), "\(v)")
        }
    }

    func testParameterValidationNamesTheField() {
        func field(_ p: DecodeParameters) -> String? {
            do { try p.validate(); return nil } catch let e as DecodeParameters.Invalid { return e.field } catch { return "?" }
        }
        XCTAssertNil(field(DecodeParameters()))
        XCTAssertEqual(field(DecodeParameters(maxTokens: 0)), "max_tokens")
        XCTAssertEqual(field(DecodeParameters(maxTokens: 513)), "max_tokens")
        XCTAssertEqual(field(DecodeParameters(slotSize: 0)), "slot_size")
        XCTAssertEqual(field(DecodeParameters(slotSize: 33, blockSize: 66)), "slot_size")
        XCTAssertEqual(field(DecodeParameters(blockSize: 129)), "block_size")
        XCTAssertEqual(field(DecodeParameters(slotSize: 4, blockSize: 10)), "block_size")
        XCTAssertEqual(field(DecodeParameters(slotThreshold: 1.5)), "slot_threshold")
        XCTAssertEqual(field(DecodeParameters(tokenThreshold: -0.1)), "token_threshold")
        XCTAssertEqual(field(DecodeParameters(tokenThreshold: .nan)), "token_threshold")
    }
}
