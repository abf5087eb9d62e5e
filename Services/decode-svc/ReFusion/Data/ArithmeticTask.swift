/// Multi-digit addition written out column by column, a task with verifiable answers.
///
/// Prompt `347+85=`; response `7+5+0=12 4+8+1=13 3+0+1=04 |432`: one step per column
/// from the least significant digit, `x+y+carry=two-digit sum`, then `|` and the result.
/// Operand pairs are split into train and held-out test sets by a seeded hash, so no
/// test pair is ever seen in training.
public struct ArithmeticTask: Sendable, Equatable, OperandPairTask {
    /// Maximum digits per operand (1...6).
    public var maxDigits: Int
    /// Share of operand pairs held out for testing, in percent (1...50).
    public var heldOutPercent: Int
    /// Seed of the split and of sampling.
    public var seed: UInt64

    public init(maxDigits: Int = 3, heldOutPercent: Int = 10, seed: UInt64 = 1) {
        precondition((1...6).contains(maxDigits), "maxDigits \(maxDigits) must be in 1...6")
        precondition((1...50).contains(heldOutPercent), "heldOutPercent \(heldOutPercent) must be in 1...50")
        self.maxDigits = maxDigits; self.heldOutPercent = heldOutPercent; self.seed = seed
    }

    /// Whether the pair (a, b) belongs to the held-out test split.
    public func isHeldOut(_ a: Int, _ b: Int) -> Bool {
        let key = UInt64(a) &* 1_000_003 &+ UInt64(b) &+ seed &* 0x5851_F42D_4C95_7F2D
        return SeededRandom.hash(key) % 100 < UInt64(heldOutPercent)
    }

    /// The prompt text for a + b.
    public static func promptText(_ a: Int, _ b: Int) -> String { "\(a)+\(b)=" }

    /// The step-by-step response text for a + b.
    public static func responseText(_ a: Int, _ b: Int) -> String {
        let da = Array(String(a).reversed()), db = Array(String(b).reversed())
        var steps: [String] = []
        var carry = 0
        for i in 0..<max(da.count, db.count) {
            let x = i < da.count ? Int(String(da[i]))! : 0
            let y = i < db.count ? Int(String(db[i]))! : 0
            let s = x + y + carry
            steps.append("\(x)+\(y)+\(carry)=\(s / 10)\(s % 10)")
            carry = s / 10
        }
        return steps.joined(separator: " ") + " |\(a + b)"
    }

    /// The final answer written in a (generated) response: the text after the last `|`.
    public static func extractAnswer(_ response: String) -> String? {
        guard let bar = response.lastIndex(of: "|") else { return nil }
        return String(response[response.index(after: bar)...]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func example(_ a: Int, _ b: Int, vocab: CharVocabulary = CharVocabulary()) -> SequenceExample {
        SequenceExample(task: .arithmetic, prompt: Self.promptText(a, b), response: Self.responseText(a, b),
                        answer: String(a + b), vocab: vocab)
    }

    func randomOperand(_ rng: inout SeededRandom) -> Int {
        let digits = 1 + Int(rng.next() % UInt64(maxDigits))
        let lo = digits == 1 ? 0 : Int(pow10(digits - 1))
        let hi = Int(pow10(digits))
        return lo + Int(rng.next() % UInt64(hi - lo))
    }

    private func pow10(_ n: Int) -> Int { (0..<n).reduce(1) { r, _ in r * 10 } }

    var trainingSalt: UInt64 { 0xA5A5_0001 }
    var testSalt: UInt64 { 0x7E57_0002 }

    /// `count` training examples (pairs outside the held-out split), drawn with `seed`.
    public func trainingExamples(count: Int, seed: UInt64) -> [SequenceExample] { sampleTraining(count: count, seed: seed) }

    /// `count` distinct held-out test examples, the same for the same task seed.
    public func testExamples(count: Int) -> [SequenceExample] { sampleTest(count: count) }

    /// Longest response (characters) this task produces, for sizing generation.
    public var maxResponseLength: Int {
        let big = pow10(maxDigits) - 1
        return Self.responseText(big, big).count
    }

    /// Longest prompt including [BOS].
    public var maxPromptLength: Int { 1 + Self.promptText(pow10(maxDigits) - 1, pow10(maxDigits) - 1).count }
}
