/// Addition of 3- and 4-digit numbers written out column by column at length, so every
/// response is 64+ tokens (METHODS.md §5, small-scale version: generation length 64-128).
///
/// Prompt `347+185=`; response, one step per column from the least significant digit:
/// `d1 7+5+0=12 c1 r2. d2 4+8+1=13 c1 r32. d3 3+1+1=05 c0 r532. answer 532`
/// - `d<i>` numbers the column; `x+y+carry-in=` the two-digit column sum;
/// - `c<k>` the carry out; `r<digits>` the result digits written so far (low digits);
/// - `answer` the sum (the last running result with a final carry prepended).
///
/// A response has 67 (3 columns) to 94 (4 columns) characters; a 4-digit problem fits a
/// 128-position model with its prompt and [EOS]. Scoring: `exactAnswer` compares the final
/// answer (the text after `answer `) and `exactResponse` the whole response. Operand pairs are
/// split into train and held-out test sets by a seeded hash, so no test pair is ever trained on.
public struct LongAdditionTask: Sendable, Equatable, OperandPairTask {
    /// Digits per operand: each operand has between `minDigits` and `maxDigits` digits (3...4 by default).
    public var minDigits: Int
    public var maxDigits: Int
    /// Share of operand pairs held out for testing, in percent (1...50).
    public var heldOutPercent: Int
    /// Seed of the split and of the test set.
    public var seed: UInt64

    public init(minDigits: Int = 3, maxDigits: Int = 4, heldOutPercent: Int = 10, seed: UInt64 = 1) {
        precondition((1...6).contains(minDigits) && (minDigits...6).contains(maxDigits),
                     "minDigits \(minDigits) and maxDigits \(maxDigits) must satisfy 1 <= minDigits <= maxDigits <= 6")
        precondition((1...50).contains(heldOutPercent), "heldOutPercent \(heldOutPercent) must be in 1...50")
        self.minDigits = minDigits; self.maxDigits = maxDigits; self.heldOutPercent = heldOutPercent; self.seed = seed
    }

    /// Whether the pair (a, b) belongs to the held-out test split.
    public func isHeldOut(_ a: Int, _ b: Int) -> Bool {
        let key = UInt64(a) &* 10_000_019 &+ UInt64(b) &+ seed &* 0x2545_F491_4F6C_DD1D
        return SeededRandom.hash(key) % 100 < UInt64(heldOutPercent)
    }

    /// The prompt text for a + b.
    public static func promptText(_ a: Int, _ b: Int) -> String { "\(a)+\(b)=" }

    /// The step-by-step response text for a + b (a, b >= 0).
    public static func responseText(_ a: Int, _ b: Int) -> String {
        let da = String(a).reversed().map { Int(String($0))! }, db = String(b).reversed().map { Int(String($0))! }
        var steps: [String] = []
        var carry = 0
        var written = ""
        for i in 0..<max(da.count, db.count) {
            let x = i < da.count ? da[i] : 0, y = i < db.count ? db[i] : 0
            let s = x + y + carry
            written = "\(s % 10)" + written
            steps.append("d\(i + 1) \(x)+\(y)+\(carry)=\(s / 10)\(s % 10) c\(s / 10) r\(written).")
            carry = s / 10
        }
        return steps.joined(separator: " ") + " answer \(a + b)"
    }

    /// The final answer written in a (generated) response: the text after the last `answer `.
    public static func extractAnswer(_ response: String) -> String? {
        guard let r = response.range(of: "answer ", options: .backwards) else { return nil }
        return String(response[r.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Exact match of the final answer (the score the report uses).
    public static func exactAnswer(_ response: String, _ example: SequenceExample) -> Bool {
        extractAnswer(response) == example.answer
    }

    /// Exact match of the whole response, every step included (stricter).
    public static func exactResponse(_ response: String, _ example: SequenceExample) -> Bool {
        response == example.responseText
    }

    public func example(_ a: Int, _ b: Int, vocab: CharVocabulary = CharVocabulary()) -> SequenceExample {
        SequenceExample(task: .longAddition, prompt: Self.promptText(a, b), response: Self.responseText(a, b),
                        answer: String(a + b), vocab: vocab)
    }

    func randomOperand(_ rng: inout SeededRandom) -> Int {
        let digits = minDigits + Int(rng.next() % UInt64(maxDigits - minDigits + 1))
        let lo = digits == 1 ? 0 : Self.pow10(digits - 1)
        return lo + Int(rng.next() % UInt64(Self.pow10(digits) - lo))
    }

    static func pow10(_ n: Int) -> Int { (0..<n).reduce(1) { r, _ in r * 10 } }

    var trainingSalt: UInt64 { 0xADD0_0001 }
    var testSalt: UInt64 { 0xADD0_7E57 }

    /// `count` training examples (pairs outside the held-out split), drawn with `seed`.
    public func trainingExamples(count: Int, seed: UInt64) -> [SequenceExample] { sampleTraining(count: count, seed: seed) }

    /// `count` distinct held-out test examples, the same for the same task seed.
    public func testExamples(count: Int) -> [SequenceExample] { sampleTest(count: count) }

    /// Shortest and longest response (characters, [EOS] excluded) this task produces.
    public var responseLengthRange: ClosedRange<Int> {
        let small = Self.pow10(minDigits - 1)
        let big = Self.pow10(maxDigits) - 1
        return Self.responseText(small, small).count...Self.responseText(big, big).count
    }

    /// Longest prompt including [BOS].
    public var maxPromptLength: Int { 1 + Self.promptText(Self.pow10(maxDigits) - 1, Self.pow10(maxDigits) - 1).count }
}
