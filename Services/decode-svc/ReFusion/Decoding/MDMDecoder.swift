import ComputeCore

/// LLaDA-style masked-diffusion decoding with confidence-based parallel unmasking:
/// the response starts as `maxTokens` [MASK]s; blocks of `blockSize` are decoded left to
/// right; each step runs the bidirectional model over the whole sequence (no KV cache is
/// possible) and unmasks every masked position of the current block whose top probability
/// exceeds `threshold` (at least the most confident one, counted in
/// `DecodeOutput.belowThresholdCommits`). Output is truncated at the first [EOS]; decoding
/// stops after a block that contains one. The model's weights are packed once per decode
/// (`PackedWeightCache`), as the causal decoders' streams pack theirs.
public enum MDMDecoder {
    public static func decode(model: BidirectionalTokenModel, prompt: [Int], maxTokens: Int, blockSize: Int,
                              threshold: Float) -> DecodeOutput {
        withPackedWeights(PackedWeightCache()) {
            decodeStream(model: model, prompt: prompt, maxTokens: maxTokens, blockSize: blockSize, threshold: threshold)
        }
    }

    private static func decodeStream(model: BidirectionalTokenModel, prompt: [Int], maxTokens: Int, blockSize: Int,
                                     threshold: Float) -> DecodeOutput {
        precondition(!prompt.isEmpty && maxTokens >= 1 && blockSize >= 1, "invalid MDM decode arguments")
        let P = prompt.count
        var seq = prompt + [Int](repeating: CharVocabulary.mask, count: maxTokens)
        let positions = Array(0..<seq.count)
        var forwards = 0
        var fallbackPositions: [Int] = []   // response indices unmasked by the "at least one" rule
        var blockStart = 0
        outer: while blockStart < maxTokens {
            let block = blockStart..<min(blockStart + blockSize, maxTokens)
            while true {
                let masked = block.filter { seq[P + $0] == CharVocabulary.mask }
                if masked.isEmpty { break }
                let logits = model.forward(tokens: seq, positions: positions)
                forwards += 1
                let cands = masked.map { i -> (Int, Int, Float) in
                    let b = logits.best(P + i, banned: ARDecoder.banned)
                    return (i, b.token, b.prob)
                }
                var chosen = cands.filter { $0.2 > threshold }
                if chosen.isEmpty {
                    chosen = [cands.max { $0.2 < $1.2 }!]
                    fallbackPositions.append(chosen[0].0)
                }
                for (i, t, _) in chosen { seq[P + i] = t }
            }
            if block.contains(where: { seq[P + $0] == CharVocabulary.eos }) { break outer }
            blockStart = block.upperBound
        }
        let resp = Array(seq[P...])
        let end = resp.firstIndex(of: CharVocabulary.eos)
        let tokens = Array(resp[..<(end ?? resp.count)])
        return DecodeOutput(tokens: tokens, forwards: forwards, finished: end != nil,
                            belowThresholdCommits: fallbackPositions.filter { $0 < tokens.count || $0 == end }.count)
    }
}
