import DTI
import Evaluation
import FlowGen
import Foundation
import MeshKit
import Models
import RecTok
import VTP

/// The frozen models concept learning needs, cached per process: MiniLM (+ its m*), generators
/// (EMA weights) and the tokenizers they were trained on (VTP or RecTok), and the evaluator's parts (the
/// positional probe fitted on MiniLM's vocabulary, EfficientNet-Lite0).
public final class PersonalizeLoader: @unchecked Sendable {
    private let generators = ModelCache<FlowGenModel> { try FlowGenCheckpoint.load(from: $0.path) }
    private let tokenizers = ModelCache<any LatentTokenizer> { try LatentTokenizers.load(checkpointPath: $0.path) }
    private let lock = NSLock()
    private var text: (MiniLMEncoder, Float)?
    private var measures: (PositionalProbe, EffNetFeatureExtractor)?
    public init() {}

    /// EfficientNet input size of the subject score (32 px concept images upsampled).
    public static let effnetResolution = 128

    /// The frozen MiniLM (prompts up to 32 tokens) and its vocabulary's mean row norm m*.
    public func encoder() throws -> (encoder: MiniLMEncoder, mStar: Float) {
        lock.lock(); defer { lock.unlock() }
        if let t = text { return t }
        let e = try MiniLMEncoder(maxLength: 32)
        let t = (e, e.meanVocabularyNorm())
        text = t
        return t
    }

    /// The positional probe (fitted once per process) and EfficientNet-Lite0.
    func measurements() throws -> (probe: PositionalProbe, effnet: EffNetFeatureExtractor) {
        let (enc, _) = try encoder()
        lock.lock(); defer { lock.unlock() }
        if let m = measures { return m }
        let m = (try PositionalProbe(encoder: enc), try EffNetFeatureExtractor(resolution: Self.effnetResolution))
        measures = m
        return m
    }

    /// The one concept evaluator on `generator` (decoding with `tokenizer`), progress-time sampling.
    func evaluator(generator: FlowGenModel, tokenizer: any LatentTokenizer) throws -> ConceptEvaluator {
        let (enc, mStar) = try encoder()
        let (probe, effnet) = try measurements()
        return ConceptEvaluator(generator: generator, encoder: enc, mStar: mStar, probe: probe, effnet: effnet,
                                settings: .progress) { try tokenizer.decode($0) }
    }

    /// The generator registered as `name` and the tokenizer named in its checkpoint metadata.
    func generator(_ name: String, context: RunContext) throws -> (FlowGenModel, any LatentTokenizer) {
        guard !name.isEmpty else { throw ServiceError.invalid("generator_model", "must name a trained generator") }
        let registry = try context.models()
        let gen = try generators.model(name, field: "generator_model", service: "generator",
                                       hint: "train one with generator.train", registry: registry)
        guard let tok = gen.metadata["tokenizer"], !tok.isEmpty else {
            throw ServiceError.invalid("generator_model", "'\(name)' does not record the tokenizer it was trained on")
        }
        return (gen, try tokenizers.model(tok, field: "generator_model", service: "tokenizer",
                                          hint: "the generator's tokenizer '\(tok)' is not registered", registry: registry))
    }
}
