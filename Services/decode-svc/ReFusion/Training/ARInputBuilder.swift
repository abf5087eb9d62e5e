/// Autoregressive (next-token) training input: `prompt || response || [EOS]`, shifted by
/// one; only positions predicting response tokens and [EOS] carry loss, each weighted
/// 1/|response+EOS| (the mean response cross-entropy).
public enum ARInputBuilder {
    public static func build(_ example: SequenceExample) -> TrainingSequence {
        let full = example.prompt + example.response + [CharVocabulary.eos]
        let n = full.count - 1
        let respStart = example.prompt.count          // index in `full` of the first response token
        let w = 1 / Float(full.count - respStart)
        var labels = [Int](repeating: TrainingSequence.ignore, count: n)
        var weights = [Float](repeating: 0, count: n)
        for i in 0..<n where i + 1 >= respStart {
            labels[i] = full[i + 1]
            weights[i] = w
        }
        return TrainingSequence(tokens: Array(full.prefix(n)), positions: Array(0..<n), labels: labels, weights: weights)
    }
}
