import XCTest
@testable import ReFusion

final class InputBuilderTests: XCTestCase {
    let B = CharVocabulary.bos, E = CharVocabulary.eos, M = CharVocabulary.mask, X = TrainingSequence.ignore

    /// prompt [B, 10, 11], response 20...25 (+ EOS = 7 tokens), slot size 3:
    /// slots s0 = 20 21 22 (pos 3-5), s1 = 23 24 25 (pos 6-8), s2 = EOS (pos 9).
    func example() -> SequenceExample {
        SequenceExample(task: .text, prompt: [B, 10, 11], response: [20, 21, 22, 23, 24, 25],
                        promptText: "", responseText: "")
    }

    func testSlotsSplitResponseAndEOS() {
        XCTAssertEqual(ReFusionInputBuilder.slots(length: 7, slotSize: 3), [0..<3, 3..<6, 6..<7])
        XCTAssertEqual(ReFusionInputBuilder.slots(length: 4, slotSize: 4), [0..<4])
        XCTAssertEqual(ReFusionInputBuilder.slots(length: 3, slotSize: 1), [0..<1, 1..<2, 2..<3])
    }

    func testHandCheckedReFusionInput() {
        // s1 masked; clean slots in physical order s2 (EOS) then s0; p = 0.25.
        let s = ReFusionInputBuilder.build(example(), slotSize: 3, maskedSlots: [false, true, false],
                                           cleanOrder: [2, 0], p: 0.25, boundaryLabels: false)
        XCTAssertEqual(s.tokens,    [B, 10, 11, E, 20, 21, 22, M, M, M])
        XCTAssertEqual(s.positions, [0, 1, 2, 9, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(s.labels,    [X, X, X, X, 21, 22, X, 23, 24, 25])
        // AR tokens: 20->21, 21->22 (2 of them, mean => 1/2 each); masks: 1/(p*|resp+EOS|) = 1/(0.25*7)
        let m: Float = 1 / (0.25 * 7)
        XCTAssertEqual(s.weights, [0, 0, 0, 0, 0.5, 0.5, 0, m, m, m])
    }

    func testBoundaryLabelsTrainTheRowBeforeEachSlot() {
        // same input as the hand-checked case; now the prompt's last token predicts 20 and the
        // last token of clean slot s0 (22, position 5) predicts the true token 23 at position 6
        let s = ReFusionInputBuilder.build(example(), slotSize: 3, maskedSlots: [false, true, false],
                                           cleanOrder: [2, 0], p: 0.25)
        XCTAssertEqual(s.tokens,    [B, 10, 11, E, 20, 21, 22, M, M, M])
        XCTAssertEqual(s.labels,    [X, X, 20, X, 21, 22, 23, 23, 24, 25])
        let m: Float = 1 / (0.25 * 7)
        let a: Float = 1 / 4        // 2 within-slot + 2 boundary AR labels, mean
        XCTAssertEqual(s.weights, [0, 0, a, 0, a, a, a, m, m, m])
    }

    func testAllMaskedAndAllClean() {
        let allMasked = ReFusionInputBuilder.build(example(), slotSize: 4, maskedSlots: [true, true], cleanOrder: [], p: 0.5,
                                                   boundaryLabels: false)
        XCTAssertEqual(allMasked.tokens, [B, 10, 11, M, M, M, M, M, M, M])
        XCTAssertEqual(allMasked.positions, Array(0..<10))
        XCTAssertEqual(allMasked.labels, [X, X, X, 20, 21, 22, 23, 24, 25, E])
        XCTAssertEqual(allMasked.weights.reduce(0, +), 7 / (0.5 * 7), accuracy: 1e-6)   // sum/p/|resp| = 1/p

        let allClean = ReFusionInputBuilder.build(example(), slotSize: 4, maskedSlots: [false, false], cleanOrder: [1, 0], p: 0.001,
                                                  boundaryLabels: false)
        XCTAssertEqual(allClean.tokens, [B, 10, 11, 24, 25, E, 20, 21, 22, 23])
        XCTAssertEqual(allClean.positions, [0, 1, 2, 7, 8, 9, 3, 4, 5, 6])
        XCTAssertEqual(allClean.labels, [X, X, X, 25, E, X, 21, 22, 23, X])
        XCTAssertEqual(allClean.weights.reduce(0, +), 1, accuracy: 1e-6)                  // mean AR CE
    }

    func testSampledInputsAreConsistent() {
        var rng = SeededRandom(seed: 42)
        let ex = example()
        var sawPermutation = false, sawMask = false
        for _ in 0..<200 {
            let s = ReFusionInputBuilder.sample(ex, slotSizes: [1, 2, 4], rng: &rng)
            XCTAssertEqual(s.count, 10)
            XCTAssertEqual(Array(s.positions.prefix(3)), [0, 1, 2])
            XCTAssertEqual(s.positions.sorted(), Array(0..<10), "every position appears once")
            let full = [B, 10, 11, 20, 21, 22, 23, 24, 25, E]
            for i in 3..<10 {
                if s.tokens[i] == M {
                    sawMask = true
                    XCTAssertEqual(s.labels[i], full[s.positions[i]], "a mask predicts its own token")
                    XCTAssertGreaterThan(s.weights[i], 0)
                } else {
                    XCTAssertEqual(s.tokens[i], full[s.positions[i]], "a clean token keeps its original position id")
                    if s.labels[i] != X { XCTAssertEqual(s.labels[i], full[s.positions[i] + 1]) }
                }
            }
            // masks come after every clean token and are in position order
            if let firstMask = s.tokens.firstIndex(of: M) {
                XCTAssertTrue(s.tokens[firstMask...].allSatisfy { $0 == M })
                let mp = Array(s.positions[firstMask...])
                XCTAssertEqual(mp, mp.sorted())
            }
            let cleanPos = zip(s.tokens, s.positions).filter { $0.0 != M }.map(\.1)
            if cleanPos != cleanPos.sorted() { sawPermutation = true }
        }
        XCTAssertTrue(sawPermutation, "clean slots are permuted")
        XCTAssertTrue(sawMask)
    }

    func testARInput() {
        let s = ARInputBuilder.build(SequenceExample(task: .text, prompt: [B, 10], response: [20, 21], promptText: "", responseText: ""))
        XCTAssertEqual(s.tokens, [B, 10, 20, 21])
        XCTAssertEqual(s.positions, [0, 1, 2, 3])
        XCTAssertEqual(s.labels, [X, 20, 21, E])
        XCTAssertEqual(s.weights, [0, 1 / 3, 1 / 3, 1 / 3])
    }

    func testMDMInputPadsWithEOSAndWeightsByP() {
        let ex = SequenceExample(task: .text, prompt: [B, 10], response: [20, 21], promptText: "", responseText: "")
        let s = MDMInputBuilder.build(ex, totalLength: 6, masked: [true, false, true, false], p: 0.5)
        XCTAssertEqual(s.tokens, [B, 10, M, 21, M, E])
        XCTAssertEqual(s.labels, [X, X, 20, X, E, X])
        XCTAssertEqual(s.weights, [0, 0, 0.5, 0, 0.5, 0])   // 1/(p*L) = 1/(0.5*4)
    }

    func testBatchPadsAndScales() {
        let a = ARInputBuilder.build(SequenceExample(task: .text, prompt: [B], response: [20], promptText: "", responseText: ""))
        let b = ARInputBuilder.build(SequenceExample(task: .text, prompt: [B, 10], response: [20, 21], promptText: "", responseText: ""))
        let batch = TrainingBatch([a, b])
        XCTAssertEqual(batch.length, 4)
        XCTAssertEqual(Array(batch.tokens.prefix(4)), [B, 20, CharVocabulary.pad, CharVocabulary.pad])
        XCTAssertEqual(Array(batch.labels.prefix(4)), [20, E, X, X])
        XCTAssertEqual(batch.weights.reduce(0, +), 1, accuracy: 1e-6)   // mean of two per-sample losses of total weight 1
    }
}
