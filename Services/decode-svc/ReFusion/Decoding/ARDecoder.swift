/// Greedy autoregressive decoding with a KV cache: one forward over the prompt, then one
/// forward per generated token (only the new token is computed; earlier keys/values are reused).
public enum ARDecoder {
    /// Tokens never generated: [PAD], [BOS], [MASK].
    public static let banned: Set<Int> = [CharVocabulary.pad, CharVocabulary.bos, CharVocabulary.mask]

    public static func decode(model: CausalTokenModel, prompt: [Int], maxTokens: Int) -> DecodeOutput {
        precondition(!prompt.isEmpty, "the prompt needs at least [BOS]")
        let cache = model.makeCache()
        var logits = model.forward(tokens: prompt, positions: Array(0..<prompt.count), cache: cache)
        var forwards = 1
        var out: [Int] = []
        var next = logits.best(logits.rows - 1, banned: banned).token
        while true {
            if next == CharVocabulary.eos { return DecodeOutput(tokens: out, forwards: forwards, finished: true) }
            out.append(next)
            if out.count >= maxTokens { return DecodeOutput(tokens: out, forwards: forwards, finished: false) }
            logits = model.forward(tokens: [next], positions: [prompt.count + out.count - 1], cache: cache)
            forwards += 1
            next = logits.best(0, banned: banned).token
        }
    }
}
