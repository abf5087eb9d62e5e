import FlowGen
import Foundation
import MeshKit
import Models
import VTP

/// The frozen models concept learning needs, cached per process: MiniLM (+ its m*), generators
/// (EMA weights) and the tokenizers they were trained on.
public final class PersonalizeLoader: @unchecked Sendable {
    private let generators = ModelCache<FlowGenModel> { try FlowGenCheckpoint.load(from: $0.path) }
    private let tokenizers = ModelCache<VTPTokenizer> { try VTPTokenizer(checkpointPath: $0.path) }
    private let lock = NSLock()
    private var text: (MiniLMEncoder, Float)?
    public init() {}

    /// The frozen MiniLM (prompts up to 32 tokens) and its vocabulary's mean row norm m*.
    public func encoder() throws -> (encoder: MiniLMEncoder, mStar: Float) {
        lock.lock(); defer { lock.unlock() }
        if let t = text { return t }
        let e = try MiniLMEncoder(maxLength: 32)
        let t = (e, e.meanVocabularyNorm())
        text = t
        return t
    }

    /// The generator registered as `name` and the tokenizer named in its checkpoint metadata.
    func generator(_ name: String, context: RunContext) throws -> (FlowGenModel, VTPTokenizer) {
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
