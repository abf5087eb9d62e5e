import Foundation

/// A decoder ready to run: which model drives which algorithm with which parameters.
public struct DecoderUnderTest {
    public let name: String
    public let mode: DecodeMode
    public let causal: CausalTokenModel?
    public let bidirectional: BidirectionalTokenModel?
    public var parameters: DecodeParameters
    /// ReFusion only: which II-a/II-b rules run.
    public var variant: ReFusionDecoder.Variant

    public init(name: String, mode: DecodeMode, model: TransformerLM, parameters: DecodeParameters,
                variant: ReFusionDecoder.Variant = .faithful) {
        self.name = name; self.mode = mode; self.parameters = parameters; self.variant = variant
        if mode == .mdm { bidirectional = model; causal = nil } else { causal = model; bidirectional = nil }
    }

    /// Decodes `prompt` with at most `maxTokens` new tokens.
    public func decode(_ prompt: [Int], maxTokens: Int) -> DecodeOutput {
        var p = parameters
        p.maxTokens = maxTokens
        switch mode {
        case .ar: return ARDecoder.decode(model: causal!, prompt: prompt, maxTokens: maxTokens)
        case .mdm:
            return MDMDecoder.decode(model: bidirectional!, prompt: prompt, maxTokens: maxTokens, blockSize: p.blockSize,
                                     threshold: p.tokenThreshold)
        case .refusion:
            var d = ReFusionDecoder(model: causal!, parameters: p, variant: variant)
            return d.decode(prompt: prompt)
        }
    }
}

/// Accuracy and speed of one decoder on one test set.
public struct EvaluationResult: Sendable, Codable, Equatable {
    public var decoder: String
    public var task: String
    public var examples: Int
    /// Exact-match tasks: share of examples solved (`ExactMatchSet.isCorrect`). Text: 0.
    public var exactMatch: Double
    /// Exact-match tasks: share of responses identical to the reference, every step included
    /// (stricter than `exactMatch` for addition; the same for sorting). Text: 0.
    public var exactResponse: Double = 0
    /// Text: judge bits per character (lower = closer to the corpus). Arithmetic: 0.
    public var judgeBitsPerChar: Double
    /// Text: judge bits per character with repeats charged (`CharNGramJudge.chargedBitsPerCharacter`):
    /// what the text earns beyond copying itself. Exact-match tasks: 0.
    public var chargedBitsPerChar: Double = 0
    /// Text: distinct character 4-grams / all 4-grams of the generations (degeneration check).
    public var distinct4: Double
    public var generatedTokens: Int
    public var forwards: Int
    public var seconds: Double
    /// Tokens committed without a causal check (ReFusion draft-keeping variants).
    public var unverifiedCommits: Int = 0
    /// Tokens committed by an "at least one token" fallback below the threshold
    /// (`DecodeOutput.belowThresholdCommits`).
    public var belowThresholdCommits: Int = 0

    public var tokensPerSecond: Double { seconds > 0 ? Double(generatedTokens) / seconds : 0 }
    public var tokensPerForward: Double { forwards > 0 ? Double(generatedTokens) / Double(forwards) : 0 }
    /// Wall time of one model call (seconds / forwards).
    public var secondsPerForward: Double { forwards > 0 ? seconds / Double(forwards) : 0 }
}

public enum DecodeEvaluation {
    /// Decodes every example; arithmetic is scored by exact match of the final answer.
    public static func arithmetic(_ d: DecoderUnderTest, examples: [SequenceExample], maxTokens: Int) -> EvaluationResult {
        exactMatch(d, task: .arithmetic, examples: examples, maxTokens: maxTokens)
    }

    /// Decodes every example of an exact-match `task` and scores it with `ExactMatchSet.isCorrect`
    /// (addition: the final answer; sorting: the whole response). `task` names the result.
    public static func exactMatch(_ d: DecoderUnderTest, task: SequenceExample.Task, examples: [SequenceExample],
                                  maxTokens: Int) -> EvaluationResult {
        let vocab = CharVocabulary()
        var correct = 0, identical = 0, tokens = 0, forwards = 0, unverified = 0, below = 0
        let t0 = Date()
        for ex in examples {
            let out = d.decode(ex.prompt, maxTokens: maxTokens)
            tokens += out.tokens.count; forwards += out.forwards; unverified += out.unverifiedCommits
            below += out.belowThresholdCommits
            let text = vocab.decode(out.tokens)
            if ExactMatchSet.isCorrect(text, ex) { correct += 1 }
            if text == ex.responseText { identical += 1 }
        }
        var r = EvaluationResult(decoder: d.name, task: task.rawValue, examples: examples.count,
                                exactMatch: examples.isEmpty ? 0 : Double(correct) / Double(examples.count),
                                judgeBitsPerChar: 0, distinct4: 0, generatedTokens: tokens, forwards: forwards,
                                seconds: Date().timeIntervalSince(t0), unverifiedCommits: unverified,
                                belowThresholdCommits: below)
        r.exactResponse = examples.isEmpty ? 0 : Double(identical) / Double(examples.count)
        return r
    }

    /// Continues every text prompt; scored by the n-gram judge and 4-gram diversity.
    public static func text(_ d: DecoderUnderTest, examples: [SequenceExample], maxTokens: Int,
                            judge: CharNGramJudge) -> (EvaluationResult, samples: [(String, String)]) {
        let vocab = CharVocabulary()
        var tokens = 0, forwards = 0, unverified = 0, below = 0, bits = 0.0
        var samples: [(String, String)] = []
        let t0 = Date()
        for ex in examples {
            let out = d.decode(ex.prompt, maxTokens: maxTokens)
            tokens += out.tokens.count; forwards += out.forwards; unverified += out.unverifiedCommits
            below += out.belowThresholdCommits
            let s = vocab.decode(out.tokens)
            samples.append((ex.promptText, s))
        }
        let seconds = Date().timeIntervalSince(t0)
        var charged = 0.0
        for (p, s) in samples {
            bits += judge.bitsPerCharacter(s, prompt: p); charged += judge.chargedBitsPerCharacter(s, prompt: p)
        }
        let n = Double(max(examples.count, 1))
        var r = EvaluationResult(decoder: d.name, task: "text", examples: examples.count, exactMatch: 0,
                                 judgeBitsPerChar: bits / n,
                                 distinct4: CharNGramJudge.distinctFraction(samples.map(\.1), n: 4),
                                 generatedTokens: tokens, forwards: forwards, seconds: seconds,
                                 unverifiedCommits: unverified, belowThresholdCommits: below)
        r.chargedBitsPerChar = charged / n
        return (r, samples)
    }
}
