import TestKit
import XCTest
@testable import ReFusion

/// The longer exact-match tasks (long addition, sorting), their scoring, the dataset mix,
/// the full fortunes corpus option and the judge's repetition measures.
final class LongTaskTests: XCTestCase {
    func testLongAdditionWritesEveryColumnAndTheAnswer() {
        XCTAssertEqual(LongAdditionTask.responseText(347, 185),
                       "d1 7+5+0=12 c1 r2. d2 4+8+1=13 c1 r32. d3 3+1+1=05 c0 r532. answer 532")
        XCTAssertEqual(LongAdditionTask.responseText(9999, 1),
                       "d1 9+1+0=10 c1 r0. d2 9+0+1=10 c1 r00. d3 9+0+1=10 c1 r000. d4 9+0+1=10 c1 r0000. answer 10000")
        XCTAssertEqual(LongAdditionTask.promptText(1234, 567), "1234+567=")
        XCTAssertEqual(LongAdditionTask.extractAnswer("d1 7+5+0=12 c1 r2. answer 12"), "12")
        XCTAssertNil(LongAdditionTask.extractAnswer("d1 7+5+0=12 c1 r2."))
    }

    func testLongAdditionResponsesAre64PlusTokensAndFitTheModel() {
        let task = LongAdditionTask(seed: 5)
        XCTAssertGreaterThanOrEqual(task.responseLengthRange.lowerBound, 64)
        let positions = TransformerConfig.preset("small")!.maxPositions
        XCTAssertLessThanOrEqual(task.maxPromptLength + task.responseLengthRange.upperBound + 1, positions)
        let train = task.trainingExamples(count: 400, seed: 2)
        var digitCounts = Set<Int>()
        var carries = 0
        for ex in train {
            let ops = ex.promptText.dropLast().split(separator: "+").map { Int($0)! }
            XCTAssertEqual(ex.answer, String(ops[0] + ops[1]))
            XCTAssertEqual(LongAdditionTask.extractAnswer(ex.responseText), ex.answer)
            XCTAssertTrue(task.responseLengthRange.contains(ex.response.count), "\(ex.response.count)")
            XCTAssertGreaterThanOrEqual(ex.response.count, 64)
            XCTAssertLessThanOrEqual(ex.prompt.count, task.maxPromptLength)
            ops.forEach { digitCounts.insert(String($0).count) }
            if ex.responseText.contains("c1") { carries += 1 }
        }
        XCTAssertEqual(digitCounts, [3, 4])
        XCTAssertGreaterThan(carries, 250, "most problems carry somewhere")
        let test = task.testExamples(count: 100)
        XCTAssertEqual(test.count, 100)
        XCTAssertEqual(Set(test.map(\.promptText)).count, 100)
        XCTAssertTrue(Set(task.trainingExamples(count: 3000, seed: 9).map(\.promptText)).isDisjoint(with: test.map(\.promptText)))
        XCTAssertEqual(task.testExamples(count: 100), test, "same seed, same test set")
    }

    func testLongAdditionScoresTheAnswerOrTheWholeResponse() {
        let ex = LongAdditionTask().example(347, 185)
        XCTAssertTrue(LongAdditionTask.exactAnswer(ex.responseText, ex))
        XCTAssertTrue(LongAdditionTask.exactResponse(ex.responseText, ex))
        // a wrong step with the right answer: the answer matches, the response does not
        let sloppy = ex.responseText.replacingOccurrences(of: "c1 r32", with: "c0 r32")
        XCTAssertTrue(LongAdditionTask.exactAnswer(sloppy, ex))
        XCTAssertFalse(LongAdditionTask.exactResponse(sloppy, ex))
        XCTAssertFalse(LongAdditionTask.exactAnswer(ex.responseText + "0", ex))
        XCTAssertFalse(LongAdditionTask.exactAnswer(String(ex.responseText.dropLast(8)), ex))
        XCTAssertTrue(ExactMatchSet.isCorrect(ex.responseText, ex))
        XCTAssertFalse(ExactMatchSet.isCorrect("answer 531", ex))
    }

    func testSortingTaskSortsAndScoresTheWholeResponse() {
        XCTAssertEqual(SortingTask.promptText([42, 17, 93, 17]), "sort 42 17 93 17=")
        XCTAssertEqual(SortingTask.responseText([42, 17, 93, 17]), "17 17 42 93")
        let task = SortingTask(seed: 3)
        let positions = TransformerConfig.preset("small")!.maxPositions
        XCTAssertLessThanOrEqual(task.maxPromptLength + task.maxResponseLength + 1, positions)
        let test = task.testExamples(count: 80)
        XCTAssertEqual(test.count, 80)
        XCTAssertEqual(Set(test.map(\.promptText)).count, 80)
        XCTAssertTrue(Set(task.trainingExamples(count: 2000, seed: 4).map(\.promptText)).isDisjoint(with: test.map(\.promptText)))
        for ex in test {
            let input = ex.promptText.dropFirst(5).dropLast().split(separator: " ").map { Int($0)! }
            let output = ex.responseText.split(separator: " ").map { Int($0)! }
            XCTAssertTrue((12...20).contains(input.count))
            XCTAssertEqual(output, input.sorted())
            XCTAssertEqual(ex.answer, ex.responseText)
            XCTAssertLessThanOrEqual(ex.prompt.count, task.maxPromptLength)
            XCTAssertLessThanOrEqual(ex.response.count, task.maxResponseLength)
            XCTAssertTrue(ExactMatchSet.isCorrect(ex.responseText, ex))
            // one swapped pair or one dropped number is wrong
            var swapped = output
            if let i = output.indices.dropLast().first(where: { output[$0] != output[$0 + 1] }) { swapped.swapAt(i, i + 1) }
            XCTAssertFalse(ExactMatchSet.isCorrect(swapped.map(String.init).joined(separator: " "), ex))
            XCTAssertFalse(ExactMatchSet.isCorrect(output.dropLast().map(String.init).joined(separator: " "), ex))
        }
    }

    func testDatasetMixesExtraTasksAndSizesTheirBudgets() {
        let arith = ArithmeticTask(maxDigits: 2, seed: 1)
        let text = [FortuneCorpus.example("A day for firm decisions!")]
        let base = DecodeDataset(arithmetic: arith, arithmeticTrain: arith.trainingExamples(count: 50, seed: 1),
                                 arithmeticTest: [], textTrain: text, textTest: text)
        let long = ExactMatchSet.longAddition(seed: 1, trainCount: 50, testCount: 10)
        let sort = ExactMatchSet.sorting(seed: 1, trainCount: 50, testCount: 10)
        let mixed = DecodeDataset(arithmetic: arith, arithmeticTrain: base.arithmeticTrain, arithmeticTest: [],
                                  textTrain: text, textTest: text, extra: [long, sort])
        XCTAssertEqual(mixed.responseBudget(.longAddition), LongAdditionTask().responseLengthRange.upperBound + 1)
        XCTAssertEqual(mixed.responseBudget(.sorting), SortingTask().maxResponseLength + 1)
        XCTAssertEqual(mixed.test(.sorting).count, 10)
        XCTAssertTrue(base.test(.sorting).isEmpty)
        var rng = SeededRandom(seed: 7)
        var seen: [SequenceExample.Task: Int] = [:]
        for _ in 0..<900 { seen[mixed.sample(textShare: 0.1, rng: &rng).task, default: 0] += 1 }
        for t in [SequenceExample.Task.arithmetic, .longAddition, .sorting] { XCTAssertGreaterThan(seen[t] ?? 0, 220, "\(t)") }
        XCTAssertGreaterThan(seen[.text] ?? 0, 50)
        // without extra tasks the mix and its random draws are the original ones
        var a = SeededRandom(seed: 3), b = SeededRandom(seed: 3)
        for _ in 0..<50 {
            let original = b.uniform() < 0.3 ? text[Int(b.next() % 1)]
                : base.arithmeticTrain[Int(b.next() % UInt64(base.arithmeticTrain.count))]
            XCTAssertEqual(base.sample(textShare: 0.3, rng: &a), original)
        }
    }

    func testFullFortunesCorpusIsLargerAndDisjoint() throws {
        try TestRequirement.require(FortuneCorpus.fullFiles().count > FortuneCorpus.defaultFiles.count,
                                    "fortunes", hint: "scripts/bootstrap installs the Debian package fortunes")
        let small = try FortuneCorpus(source: .min)
        let full = try FortuneCorpus(source: .full)
        XCTAssertGreaterThan(full.train.count, 8 * small.train.count)
        XCTAssertGreaterThan(full.test.count, 300)
        XCTAssertTrue(Set(full.train).isDisjoint(with: full.test))
        XCTAssertTrue(full.train.allSatisfy { $0.count <= 80 })
        XCTAssertFalse(FortuneCorpus.fullFiles().contains { $0.hasSuffix(".dat") || $0.hasSuffix(".u8") })
        // the min source is exactly the old default
        XCTAssertEqual(small.test, try FortuneCorpus().test)
        // a directory with only fortunes-min's files cannot give the full corpus
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fortunes-min-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in FortuneCorpus.defaultFiles { try "Short.\n%\n".write(to: dir.appendingPathComponent(f), atomically: true, encoding: .utf8) }
        XCTAssertThrowsError(try FortuneCorpus(source: .full, directory: dir.path)) { e in
            XCTAssertTrue("\(e)".contains("fortunes"), "\(e)")
        }
        XCTAssertNoThrow(try FortuneCorpus(source: .min, directory: dir.path))
    }

    func testJudgeChargesRepetitionSoDegenerateTextCannotWin() {
        let corpus = ["the cat sat on the mat.", "the dog ate the bone.", "a bird in the hand is worth two in the bush.",
                      "the early bird catches the worm.", "there is no place like home."]
        let judge = CharNGramJudge(corpus: corpus, order: 4)
        let real = "a dog in the house is worth more."   // held-out text: new combinations cost bits
        let degenerate = "the the the the the the the the."
        // the plain n-gram score prefers the degenerate text; the charged score does not
        XCTAssertLessThan(judge.bitsPerCharacter(degenerate, prompt: ""), judge.bitsPerCharacter(real, prompt: ""))
        XCTAssertGreaterThan(judge.chargedBitsPerCharacter(degenerate, prompt: ""), judge.chargedBitsPerCharacter(real, prompt: ""))
        // text without a repeated 6-gram is scored as before
        XCTAssertEqual(CharNGramJudge.repeatedCharacters(real, prompt: "", order: 6), 0)
        XCTAssertEqual(judge.chargedBitsPerCharacter(real, prompt: ""), judge.bitsPerCharacter(real, prompt: ""), accuracy: 1e-12)
        // "abcdefabcdef": the second "abcdef" completes repeats at its 6th character only
        XCTAssertEqual(CharNGramJudge.repeatedCharacters("abcdefabcdef", prompt: "", order: 6), 1)
        XCTAssertEqual(CharNGramJudge.repeatedCharacters("abcdef", prompt: "xabcdef ", order: 6), 1, "copying the prompt counts")
        XCTAssertEqual(CharNGramJudge.repeatedCharacters(degenerate, prompt: "", order: 6), 22)   // all but the first 9 and the final "e the."
        // distinct-n, pooled over the generations
        XCTAssertEqual(CharNGramJudge.distinctFraction(["abcd", "abcd"], n: 4), 0.5)
        XCTAssertEqual(CharNGramJudge.distinctFraction(["abcde"], n: 4), 1)
        XCTAssertEqual(CharNGramJudge.distinctFraction(["ab", ""], n: 4), 0)
        XCTAssertLessThan(CharNGramJudge.distinctFraction([degenerate], n: 4), 0.2)
        XCTAssertGreaterThan(CharNGramJudge.distinctFraction([real], n: 4), 0.8)
    }
}
