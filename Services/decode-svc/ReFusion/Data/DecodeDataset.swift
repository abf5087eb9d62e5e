/// Everything the decode models train and are evaluated on: the arithmetic task (train
/// examples and a held-out test set) and the fortune corpus (train/test cookies).
public struct DecodeDataset: Sendable {
    public let arithmetic: ArithmeticTask
    public let arithmeticTrain: [SequenceExample]
    public let arithmeticTest: [SequenceExample]
    public let textTrain: [SequenceExample]
    public let textTest: [SequenceExample]

    public init(arithmetic: ArithmeticTask, arithmeticTrain: [SequenceExample], arithmeticTest: [SequenceExample],
                textTrain: [SequenceExample], textTest: [SequenceExample]) {
        self.arithmetic = arithmetic; self.arithmeticTrain = arithmeticTrain; self.arithmeticTest = arithmeticTest
        self.textTrain = textTrain; self.textTest = textTest
    }

    /// The standard data: 3-digit addition (10 % of pairs held out) and fortunes-min
    /// cookies of at most 80 characters (10 % held out); all splits fixed by `seed`.
    public static func standard(seed: UInt64 = 1, arithmeticTrainCount: Int = 20_000, arithmeticTestCount: Int = 200,
                                maxDigits: Int = 3, corpusDirectory: String = FortuneCorpus.defaultDirectory) throws
        -> DecodeDataset {
        let task = ArithmeticTask(maxDigits: maxDigits, heldOutPercent: 10, seed: seed)
        let corpus = try FortuneCorpus(directory: corpusDirectory, maxCharacters: 80, heldOutPercent: 10, seed: seed)
        return DecodeDataset(arithmetic: task,
                             arithmeticTrain: task.trainingExamples(count: arithmeticTrainCount, seed: seed &+ 17),
                             arithmeticTest: task.testExamples(count: arithmeticTestCount),
                             textTrain: corpus.trainingExamples(), textTest: corpus.testExamples())
    }

    /// Response budget (tokens incl. [EOS]) of a task: the masked-diffusion canvas length
    /// and the generation limit used in evaluation.
    public func responseBudget(_ task: SequenceExample.Task) -> Int {
        switch task {
        case .arithmetic: return arithmetic.maxResponseLength + 1
        case .text: return 81
        }
    }

    /// A training example: text with probability `textShare`, else arithmetic.
    public func sample(textShare: Double, rng: inout SeededRandom) -> SequenceExample {
        if !textTrain.isEmpty && rng.uniform() < textShare {
            return textTrain[Int(rng.next() % UInt64(textTrain.count))]
        }
        return arithmeticTrain[Int(rng.next() % UInt64(arithmeticTrain.count))]
    }
}
