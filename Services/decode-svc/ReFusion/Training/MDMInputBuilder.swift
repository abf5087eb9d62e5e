/// Masked-diffusion (LLaDA-style) training input for a bidirectional model:
/// `prompt || response || [EOS] padding` to `totalLength`; t ~ U(0,1),
/// p = (1-eps) t + eps, each response/pad token replaced by [MASK] with prob p; a mask at
/// position i predicts the true token at i with weight 1/(p * L) (L = response length
/// incl. padding): the LLaDA loss `sum masked CE / p / L`. Paper: LLaDA (arXiv 2502.09992) Eq. 3.
public enum MDMInputBuilder {
    public static let epsilon = 1e-3

    /// The deterministic core: `masked[i]` says whether response token i (after EOS padding) is masked.
    public static func build(_ example: SequenceExample, totalLength: Int, masked: [Bool], p: Double) -> TrainingSequence {
        let respLen = totalLength - example.prompt.count
        precondition(respLen > example.response.count, "totalLength \(totalLength) leaves no room for [EOS]")
        precondition(masked.count == respLen, "masked must cover the \(respLen) response slots")
        let resp = example.response + [Int](repeating: CharVocabulary.eos, count: respLen - example.response.count)
        var tokens = example.prompt, labels = [Int](repeating: TrainingSequence.ignore, count: example.prompt.count)
        var weights = [Float](repeating: 0, count: example.prompt.count)
        let w = Float(1 / (p * Double(respLen)))
        for (i, t) in resp.enumerated() {
            if masked[i] {
                tokens.append(CharVocabulary.mask); labels.append(t); weights.append(w)
            } else {
                tokens.append(t); labels.append(TrainingSequence.ignore); weights.append(0)
            }
        }
        return TrainingSequence(tokens: tokens, positions: Array(0..<totalLength), labels: labels, weights: weights)
    }

    /// Samples t and the mask, then builds.
    public static func sample(_ example: SequenceExample, totalLength: Int, rng: inout SeededRandom) -> TrainingSequence {
        let t = rng.uniform()
        let p = (1 - epsilon) * t + epsilon
        let respLen = totalLength - example.prompt.count
        let masked = (0..<respLen).map { _ in rng.uniform() < p }
        return build(example, totalLength: totalLength, masked: masked, p: p)
    }
}
