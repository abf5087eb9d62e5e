/// Sorting a list of two-digit numbers, a structured task with one right answer that needs
/// the whole prompt for every output token (no slot can be filled from local context alone).
///
/// Prompt `sort 42 17 93 17=`; response `17 17 42 93` (ascending, duplicates kept). Numbers are
/// 10...99 so every one is two characters; a list has `minCount...maxCount` numbers (12...20 by
/// default: responses of 35...59 characters, and prompt + response + [EOS] <= 126 positions).
/// Scoring: exact match of the whole response (`answer` is the response). Lists are split
/// into train and held-out test sets by a seeded hash of the list.
public struct SortingTask: Sendable, Equatable {
    /// Fewest and most numbers in a list (2...40).
    public var minCount: Int
    public var maxCount: Int
    /// Share of lists held out for testing, in percent (1...50).
    public var heldOutPercent: Int
    /// Seed of the split and of the test set.
    public var seed: UInt64

    public init(minCount: Int = 12, maxCount: Int = 20, heldOutPercent: Int = 10, seed: UInt64 = 1) {
        precondition((2...40).contains(minCount) && (minCount...40).contains(maxCount),
                     "minCount \(minCount) and maxCount \(maxCount) must satisfy 2 <= minCount <= maxCount <= 40")
        precondition((1...50).contains(heldOutPercent), "heldOutPercent \(heldOutPercent) must be in 1...50")
        self.minCount = minCount; self.maxCount = maxCount; self.heldOutPercent = heldOutPercent; self.seed = seed
    }

    /// Whether `list` belongs to the held-out test split.
    public func isHeldOut(_ list: [Int]) -> Bool {
        var h = seed &* 0x9E37_79B9_7F4A_7C15
        for x in list { h = (h ^ UInt64(x)) &* 0x100_0000_01B3 }
        return SeededRandom.hash(h) % 100 < UInt64(heldOutPercent)
    }

    public static func promptText(_ list: [Int]) -> String { "sort " + list.map(String.init).joined(separator: " ") + "=" }

    public static func responseText(_ list: [Int]) -> String { list.sorted().map(String.init).joined(separator: " ") }

    /// Exact match of the whole (generated) response.
    public static func exactResponse(_ response: String, _ example: SequenceExample) -> Bool {
        response == example.responseText
    }

    public func example(_ list: [Int], vocab: CharVocabulary = CharVocabulary()) -> SequenceExample {
        precondition(list.allSatisfy { (10...99).contains($0) }, "sorting lists hold numbers 10...99")
        let r = Self.responseText(list)
        return SequenceExample(task: .sorting, prompt: Self.promptText(list), response: r, answer: r, vocab: vocab)
    }

    private func randomList(_ rng: inout SeededRandom) -> [Int] {
        let n = minCount + Int(rng.next() % UInt64(maxCount - minCount + 1))
        return (0..<n).map { _ in 10 + Int(rng.next() % 90) }
    }

    /// `count` training examples (lists outside the held-out split), drawn with `sampleSeed`.
    public func trainingExamples(count: Int, seed sampleSeed: UInt64) -> [SequenceExample] {
        var rng = SeededRandom(seed: sampleSeed ^ 0x5027_0001)
        var out: [SequenceExample] = []
        out.reserveCapacity(count)
        while out.count < count {
            let l = randomList(&rng)
            if !isHeldOut(l) { out.append(example(l)) }
        }
        return out
    }

    /// `count` distinct held-out test examples, the same for the same task seed.
    public func testExamples(count: Int) -> [SequenceExample] {
        var rng = SeededRandom(seed: seed ^ 0x5027_7E57)
        var seen = Set<[Int]>()
        var out: [SequenceExample] = []
        var attempts = 0
        while out.count < count && attempts < count * 1_000 {
            attempts += 1
            let l = randomList(&rng)
            guard isHeldOut(l), seen.insert(l).inserted else { continue }
            out.append(example(l))
        }
        return out
    }

    /// Longest response (characters, [EOS] excluded).
    public var maxResponseLength: Int { 3 * maxCount - 1 }

    /// Longest prompt including [BOS].
    public var maxPromptLength: Int { 1 + 5 + 3 * maxCount }
}
