/// A task whose examples are operand pairs (a, b), split into training and held-out test pairs by
/// a seeded rule (`isHeldOut`): the shared sampling of `ArithmeticTask` and `LongAdditionTask`.
protocol OperandPairTask {
    /// Seed of the split and of test sampling.
    var seed: UInt64 { get }
    /// Salts that keep this task's training and test streams apart from other tasks'.
    var trainingSalt: UInt64 { get }
    var testSalt: UInt64 { get }
    func randomOperand(_ rng: inout SeededRandom) -> Int
    func isHeldOut(_ a: Int, _ b: Int) -> Bool
    func example(_ a: Int, _ b: Int, vocab: CharVocabulary) -> SequenceExample
}

extension OperandPairTask {
    /// `count` training examples (pairs outside the held-out split), drawn with `sampleSeed`.
    func sampleTraining(count: Int, seed sampleSeed: UInt64) -> [SequenceExample] {
        var rng = SeededRandom(seed: sampleSeed ^ trainingSalt)
        var out: [SequenceExample] = []
        out.reserveCapacity(count)
        while out.count < count {
            let a = randomOperand(&rng), b = randomOperand(&rng)
            if !isHeldOut(a, b) { out.append(example(a, b, vocab: CharVocabulary())) }
        }
        return out
    }

    /// `count` distinct held-out test examples, the same for the same task seed.
    func sampleTest(count: Int) -> [SequenceExample] {
        var rng = SeededRandom(seed: seed ^ testSalt)
        var seen = Set<Int>()
        var out: [SequenceExample] = []
        var attempts = 0
        while out.count < count && attempts < count * 10_000 {
            attempts += 1
            let a = randomOperand(&rng), b = randomOperand(&rng)
            guard isHeldOut(a, b), seen.insert(a * 10_000_000 + b).inserted else { continue }
            out.append(example(a, b, vocab: CharVocabulary()))
        }
        return out
    }
}
