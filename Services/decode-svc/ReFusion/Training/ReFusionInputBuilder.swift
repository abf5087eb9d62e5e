/// ReFusion hybrid training input (METHODS.md §5, "Training"):
/// slot size k; `response || [EOS]` split into slots of k tokens (last may be shorter);
/// t ~ U(0,1), each slot masked with prob p = (1-1e-3) t + 1e-3; input =
/// `prompt || clean slots in a random permutation || [MASK] x (masked slots, original order)`;
/// every token keeps its original position id; attention is causal over this physical order.
/// Labels: token j of a clean slot predicts token j+1 of the same slot, a [MASK] at position i
/// predicts the true token at i. The paper leaves the last token of a slot without a label;
/// with `boundaryLabels` (the default here) it predicts the true token at the next position,
/// and so does the prompt's last token for response token 0. Without them nothing ever trains
/// the prediction of a slot's first token from its predecessor, which is exactly the row that
/// causal verification of first tokens and plain AR decoding need: the AR-initialised model
/// forgets it (issue 14: AR decoding of the ReFusion model fell to 3.5 % exact match).
/// Loss `L = mean AR CE + sum masked CE / p / |response+EOS|`, expressed as per-token weights.
public enum ReFusionInputBuilder {
    public static let epsilon = 1e-3

    /// The slots of a response: half-open index ranges into `response + [EOS]`.
    public static func slots(length: Int, slotSize k: Int) -> [Range<Int>] {
        precondition(k >= 1, "slot size must be >= 1")
        return stride(from: 0, to: length, by: k).map { $0..<min($0 + k, length) }
    }

    /// The deterministic core. `maskedSlots[s]` says whether slot s is masked;
    /// `cleanOrder` is the physical order of the clean slots (a permutation of their indices).
    public static func build(_ example: SequenceExample, slotSize k: Int, maskedSlots: [Bool], cleanOrder: [Int],
                             p: Double, boundaryLabels: Bool = true) -> TrainingSequence {
        let resp = example.response + [CharVocabulary.eos]
        let n = resp.count
        let slots = Self.slots(length: n, slotSize: k)
        precondition(maskedSlots.count == slots.count, "maskedSlots must have one flag per slot (\(slots.count))")
        let clean = slots.indices.filter { !maskedSlots[$0] }
        precondition(cleanOrder.sorted() == clean, "cleanOrder must be a permutation of the clean slots \(clean)")
        let P = example.prompt.count
        var tokens = example.prompt, positions = Array(0..<P)
        var labels = [Int](repeating: TrainingSequence.ignore, count: P)
        var weights = [Float](repeating: 0, count: P)

        // boundary labels: the prompt's last token and the last token of every clean slot but the final one
        let boundaries = boundaryLabels ? 1 + clean.filter { slots[$0].upperBound < n }.count : 0
        let arCount = clean.reduce(0) { $0 + slots[$1].count - 1 } + boundaries
        let arWeight: Float = arCount > 0 ? 1 / Float(arCount) : 0
        if boundaryLabels { labels[P - 1] = resp[0]; weights[P - 1] = arWeight }
        for s in cleanOrder {
            let r = slots[s]
            for i in r {
                tokens.append(resp[i]); positions.append(P + i)
                if i + 1 < r.upperBound || (boundaryLabels && i + 1 < n) {
                    labels.append(resp[i + 1]); weights.append(arWeight)
                } else {
                    labels.append(TrainingSequence.ignore); weights.append(0)
                }
            }
        }
        let maskWeight = Float(1 / (p * Double(n)))
        for s in slots.indices where maskedSlots[s] {
            for i in slots[s] {
                tokens.append(CharVocabulary.mask); positions.append(P + i)
                labels.append(resp[i]); weights.append(maskWeight)
            }
        }
        return TrainingSequence(tokens: tokens, positions: positions, labels: labels, weights: weights)
    }

    /// Samples k from `slotSizes`, t, the slot mask and the clean permutation, then builds.
    public static func sample(_ example: SequenceExample, slotSizes: [Int], boundaryLabels: Bool = true,
                              rng: inout SeededRandom) -> TrainingSequence {
        precondition(!slotSizes.isEmpty, "slotSizes must not be empty")
        let k = slotSizes[Int(rng.next() % UInt64(slotSizes.count))]
        let t = rng.uniform()
        let p = (1 - epsilon) * t + epsilon
        let count = slots(length: example.response.count + 1, slotSize: k).count
        let masked = (0..<count).map { _ in rng.uniform() < p }
        var clean = (0..<count).filter { !masked[$0] }
        clean.shuffle(using: &rng)
        return build(example, slotSize: k, maskedSlots: masked, cleanOrder: clean, p: p, boundaryLabels: boundaryLabels)
    }
}
