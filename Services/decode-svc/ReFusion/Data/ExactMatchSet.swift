/// Train and held-out test examples of one longer exact-match task (`LongAdditionTask`,
/// `SortingTask`) added to a `DecodeDataset` beside its arithmetic and text.
public struct ExactMatchSet: Sendable {
    public let task: SequenceExample.Task
    public let train: [SequenceExample]
    public let test: [SequenceExample]
    /// Longest response in tokens, [EOS] excluded.
    public let maxResponseLength: Int

    public init(task: SequenceExample.Task, train: [SequenceExample], test: [SequenceExample], maxResponseLength: Int) {
        self.task = task; self.train = train; self.test = test; self.maxResponseLength = maxResponseLength
    }

    /// Step-by-step addition of 3- and 4-digit numbers (`LongAdditionTask` defaults).
    public static func longAddition(seed: UInt64, trainCount: Int, testCount: Int) -> ExactMatchSet {
        let t = LongAdditionTask(seed: seed)
        return ExactMatchSet(task: .longAddition, train: t.trainingExamples(count: trainCount, seed: seed &+ 29),
                             test: t.testExamples(count: testCount), maxResponseLength: t.responseLengthRange.upperBound)
    }

    /// Sorting 12-20 two-digit numbers (`SortingTask` defaults).
    public static func sorting(seed: UInt64, trainCount: Int, testCount: Int) -> ExactMatchSet {
        let t = SortingTask(seed: seed)
        return ExactMatchSet(task: .sorting, train: t.trainingExamples(count: trainCount, seed: seed &+ 31),
                             test: t.testExamples(count: testCount), maxResponseLength: t.maxResponseLength)
    }

    /// The set of `task` (`.longAddition` or `.sorting`); nil for the dataset's own tasks.
    public static func make(_ task: SequenceExample.Task, seed: UInt64, trainCount: Int, testCount: Int) -> ExactMatchSet? {
        switch task {
        case .longAddition: return longAddition(seed: seed, trainCount: trainCount, testCount: testCount)
        case .sorting: return sorting(seed: seed, trainCount: trainCount, testCount: testCount)
        case .arithmetic, .text: return nil
        }
    }

    /// Whether a generated `response` solves `example`: exact match of the final answer for
    /// addition (the text after `|` or `answer `), of the whole response for sorting; text: never.
    public static func isCorrect(_ response: String, _ example: SequenceExample) -> Bool {
        switch example.task {
        case .arithmetic: return ArithmeticTask.extractAnswer(response) == example.answer
        case .longAddition: return LongAdditionTask.exactAnswer(response, example)
        case .sorting: return SortingTask.exactResponse(response, example)
        case .text: return false
        }
    }
}
