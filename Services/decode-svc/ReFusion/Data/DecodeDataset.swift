/// Everything the decode models train and are evaluated on: the arithmetic task (train
/// examples and a held-out test set), the fortune corpus (train/test cookies) and optionally
/// longer exact-match tasks (`extra`: long addition, sorting).
public struct DecodeDataset: Sendable {
    public let arithmetic: ArithmeticTask
    public let arithmeticTrain: [SequenceExample]
    public let arithmeticTest: [SequenceExample]
    public let textTrain: [SequenceExample]
    public let textTest: [SequenceExample]
    /// Longer exact-match tasks, trained on beside the arithmetic (empty: the original mix).
    public let extra: [ExactMatchSet]
    /// Held-out examples for early stopping and learning-rate selection, disjoint from every
    /// training and test example (held-out operand pairs / lists after the test ones, held-out
    /// cookies after the test prompts).
    public let validation: [SequenceExample]

    public init(arithmetic: ArithmeticTask, arithmeticTrain: [SequenceExample], arithmeticTest: [SequenceExample],
                textTrain: [SequenceExample], textTest: [SequenceExample], extra: [ExactMatchSet] = [],
                validation: [SequenceExample] = []) {
        self.arithmetic = arithmetic; self.arithmeticTrain = arithmeticTrain; self.arithmeticTest = arithmeticTest
        self.textTrain = textTrain; self.textTest = textTest; self.extra = extra; self.validation = validation
    }

    /// The standard data: 3-digit addition (10 % of pairs held out) and fortunes-min
    /// cookies of at most 80 characters (10 % held out); all splits fixed by `seed`.
    /// `corpus` `.full` reads the Debian package `fortunes` instead; `extraTasks` adds
    /// `.longAddition` / `.sorting` with `extraTrainCount` train and `arithmeticTestCount` test examples each.
    /// `validationCount` held-out examples per task (text: at most the cookies after the first
    /// `textTestCount`) form `validation`.
    public static func standard(seed: UInt64 = 1, arithmeticTrainCount: Int = 20_000, arithmeticTestCount: Int = 200,
                                maxDigits: Int = 3, corpusDirectory: String = FortuneCorpus.defaultDirectory,
                                corpus source: FortuneCorpus.Source = .min, extraTasks: [SequenceExample.Task] = [],
                                extraTrainCount: Int = 20_000, validationCount: Int = 0,
                                textTestCount: Int = 0) throws -> DecodeDataset {
        let task = ArithmeticTask(maxDigits: maxDigits, heldOutPercent: 10, seed: seed)
        let corpus = try FortuneCorpus(source: source, directory: corpusDirectory, maxCharacters: 80, heldOutPercent: 10,
                                       seed: seed)
        // test sets are prefix-stable: the examples after the first `arithmeticTestCount` are disjoint from them
        let extended = extraTasks.compactMap {
            ExactMatchSet.make($0, seed: seed, trainCount: extraTrainCount, testCount: arithmeticTestCount + validationCount)
        }
        let extra = extended.map {
            ExactMatchSet(task: $0.task, train: $0.train, test: Array($0.test.prefix(arithmeticTestCount)),
                          maxResponseLength: $0.maxResponseLength)
        }
        let arithmeticHeldOut = task.testExamples(count: arithmeticTestCount + validationCount)
        let textTest = corpus.testExamples()
        var validation = Array(arithmeticHeldOut.dropFirst(arithmeticTestCount))
        validation += textTest.dropFirst(textTestCount).prefix(validationCount)
        for x in extended { validation += x.test.dropFirst(arithmeticTestCount) }
        return DecodeDataset(arithmetic: task,
                             arithmeticTrain: task.trainingExamples(count: arithmeticTrainCount, seed: seed &+ 17),
                             arithmeticTest: Array(arithmeticHeldOut.prefix(arithmeticTestCount)),
                             textTrain: corpus.trainingExamples(), textTest: textTest, extra: extra, validation: validation)
    }

    /// Response budget (tokens incl. [EOS]) of a task: the masked-diffusion canvas length
    /// and the generation limit used in evaluation.
    public func responseBudget(_ task: SequenceExample.Task) -> Int {
        switch task {
        case .arithmetic: return arithmetic.maxResponseLength + 1
        case .text: return 81
        case .longAddition, .sorting:
            return (extra.first { $0.task == task }?.maxResponseLength ?? 0) + 1
        }
    }

    /// Test examples of `task` (empty when the dataset does not hold it).
    public func test(_ task: SequenceExample.Task) -> [SequenceExample] {
        switch task {
        case .arithmetic: return arithmeticTest
        case .text: return textTest
        case .longAddition, .sorting: return extra.first { $0.task == task }?.test ?? []
        }
    }

    /// A training example: text with probability `textShare`, else one of the exact-match
    /// tasks (arithmetic and each `extra` task equally likely; arithmetic alone when `extra` is empty).
    public func sample(textShare: Double, rng: inout SeededRandom) -> SequenceExample {
        if !textTrain.isEmpty && rng.uniform() < textShare {
            return textTrain[Int(rng.next() % UInt64(textTrain.count))]
        }
        if !extra.isEmpty {
            let k = Int(rng.next() % UInt64(extra.count + 1))
            if k > 0 { return extra[k - 1].train[Int(rng.next() % UInt64(extra[k - 1].train.count))] }
        }
        return arithmeticTrain[Int(rng.next() % UInt64(arithmeticTrain.count))]
    }
}
