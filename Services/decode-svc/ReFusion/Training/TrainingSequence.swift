/// One model input with its supervision: physical token order, the position id (RoPE)
/// of every token, the label each position predicts (-1 = none) and its loss weight.
/// The sample's loss is `sum_i weights[i] * CE(logits[i], labels[i])`.
public struct TrainingSequence: Sendable, Equatable {
    public static let ignore = -1

    public var tokens: [Int]
    public var positions: [Int]
    public var labels: [Int]
    public var weights: [Float]

    public init(tokens: [Int], positions: [Int], labels: [Int], weights: [Float]) {
        precondition(tokens.count == positions.count && tokens.count == labels.count && tokens.count == weights.count,
                     "tokens, positions, labels and weights must have the same length")
        self.tokens = tokens; self.positions = positions; self.labels = labels; self.weights = weights
    }

    public var count: Int { tokens.count }

    /// Pads to `length` with [PAD] tokens that carry no loss (positions continue).
    public func padded(to length: Int) -> TrainingSequence {
        guard length > count else { return self }
        var s = self
        let next = (positions.max() ?? -1) + 1
        for i in 0..<(length - count) {
            s.tokens.append(CharVocabulary.pad); s.positions.append(next + i)
            s.labels.append(Self.ignore); s.weights.append(0)
        }
        return s
    }
}

/// A batch of equal-length sequences, flattened row-major: `[B, T]`.
public struct TrainingBatch: Sendable {
    public var batch: Int
    public var length: Int
    public var tokens: [Int]
    public var positions: [Int]
    public var labels: [Int]
    /// Already divided by the batch size: the batch loss is `sum weights * CE`.
    public var weights: [Float]

    public init(_ sequences: [TrainingSequence], length: Int? = nil) {
        precondition(!sequences.isEmpty, "a batch needs at least one sequence")
        let t = length ?? sequences.map(\.count).max()!
        batch = sequences.count; self.length = t
        tokens = []; positions = []; labels = []; weights = []
        let scale = 1 / Float(sequences.count)
        for s in sequences {
            precondition(s.count <= t, "sequence of length \(s.count) exceeds batch length \(t)")
            let p = s.padded(to: t)
            tokens += p.tokens; positions += p.positions; labels += p.labels
            weights += p.weights.map { $0 * scale }
        }
    }
}
