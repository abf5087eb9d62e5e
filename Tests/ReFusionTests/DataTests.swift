import TestKit
import XCTest
@testable import ReFusion

final class DataTests: XCTestCase {
    func testVocabularyRoundTrip() {
        let v = CharVocabulary()
        XCTAssertEqual(v.size, 100)
        let text = "Hello, world! 12+34=46\n~"
        XCTAssertEqual(v.decode(v.encode(text)), text)
        XCTAssertTrue(v.encode(text).allSatisfy { $0 >= CharVocabulary.specialCount && $0 < v.size })
        XCTAssertEqual(v.decode([CharVocabulary.bos] + v.encode("a") + [CharVocabulary.eos], showSpecials: true), "[BOS]a[EOS]")
        XCTAssertEqual(v.decode(v.encode("é")), "?")
    }

    func testArithmeticStepsAreCorrect() {
        XCTAssertEqual(ArithmeticTask.responseText(347, 85), "7+5+0=12 4+8+1=13 3+0+1=04 |432")
        XCTAssertEqual(ArithmeticTask.responseText(0, 0), "0+0+0=00 |0")
        XCTAssertEqual(ArithmeticTask.promptText(5, 999), "5+999=")
        XCTAssertEqual(ArithmeticTask.extractAnswer("7+5+0=12 |12"), "12")
        XCTAssertNil(ArithmeticTask.extractAnswer("7+5"))
        let task = ArithmeticTask(maxDigits: 3, heldOutPercent: 10, seed: 3)
        for ex in task.trainingExamples(count: 300, seed: 9) {
            let parts = ex.promptText.dropLast().split(separator: "+").map { Int($0)! }
            XCTAssertEqual(ex.answer, String(parts[0] + parts[1]))
            XCTAssertEqual(ArithmeticTask.extractAnswer(ex.responseText), ex.answer)
            XCTAssertLessThanOrEqual(ex.response.count, task.maxResponseLength)
        }
    }

    func testArithmeticSplitIsDisjointAndSeeded() {
        let task = ArithmeticTask(maxDigits: 3, heldOutPercent: 10, seed: 3)
        let test = task.testExamples(count: 200)
        XCTAssertEqual(test.count, 200)
        XCTAssertEqual(Set(test.map(\.promptText)).count, 200)
        XCTAssertEqual(task.testExamples(count: 200), test, "same seed, same test set")
        let train = Set(task.trainingExamples(count: 5000, seed: 1).map(\.promptText))
        XCTAssertTrue(train.isDisjoint(with: test.map(\.promptText)))
        XCTAssertNotEqual(task.trainingExamples(count: 50, seed: 1), task.trainingExamples(count: 50, seed: 2))
        let other = ArithmeticTask(maxDigits: 3, heldOutPercent: 10, seed: 4).testExamples(count: 200)
        XCTAssertNotEqual(other, test)
    }

    func testFortuneParsing() {
        let text = "First  line\nand more.\n%\nShort.\n%\n" + String(repeating: "x", count: 100) + "\n%\n"
        XCTAssertEqual(FortuneCorpus.parse(text, maxCharacters: 80), ["First line and more.", "Short."])
        let ex = FortuneCorpus.example("A day for firm decisions!", promptWords: 2)
        XCTAssertEqual(ex.promptText, "A day ")
        XCTAssertEqual(ex.responseText, "for firm decisions!")
        XCTAssertEqual(ex.prompt.first, CharVocabulary.bos)
        XCTAssertEqual(FortuneCorpus.example("Hi.", promptWords: 2).responseText, "Hi.")
    }

    func testFortuneCorpusFromDebianPackage() throws {
        try TestRequirement.require(FileManager.default.fileExists(atPath: FortuneCorpus.defaultDirectory + "/fortunes"),
                                    "fortunes-min", hint: "scripts/bootstrap installs it")
        let c = try FortuneCorpus()
        XCTAssertGreaterThan(c.train.count, 300)
        XCTAssertGreaterThan(c.test.count, 20)
        XCTAssertTrue(Set(c.train).isDisjoint(with: c.test))
        XCTAssertTrue(c.train.allSatisfy { $0.count <= 80 })
        let again = try FortuneCorpus()
        XCTAssertEqual(again.test, c.test)
    }
}
