import ComputeCore
import Datasets
import Evaluation
import FlowGen
import Foundation
import MeshKit
import MeshProto
import VTP

/// generator-svc handlers: adapt `generator.{train,generate,evaluate}` messages to the FlowGen library.
/// Latents are decoded (and training images encoded) by the VTP tokenizer the generator names,
/// loaded in process from the model registry (the co-hosted path).
public enum GeneratorService {
    /// Registry kind of a trained generator.
    public static let modelKind = "flowgen-generator"
    /// The model `generator.generate` uses when the request names none (what scripts/run trains).
    public static let defaultModel = "generator-default"
    public static let maxPrompts = 64
    public static let maxImagesPerPrompt = 16
    public static let stepRange: ClosedRange<Int32> = 1...1000
    public static let guidanceRange: ClosedRange<Float> = 0...20
    public static let defaultSteps: Int32 = 28
    /// Longest prompt accepted (characters).
    public static let maxPromptLength = 300
    /// Prompts of the preview grid published while training (fmnist-color wording).
    public static let previewPrompts = ["a red dress", "a blue sneaker", "a green bag", "a yellow t-shirt",
                                        "a purple coat", "an orange ankle boot", "a pink sandal", "a cyan pullover"]

    /// The two methods; `models` caches loaded generators, tokenizers and the prompt encoder.
    public static func methods(models: GeneratorModels) -> [ServiceMethod] {
        [
            .typed("generator.train", summary: "train a FlowGen preset on a tokenizer's latents of a captioned dataset",
                   isLongRunning: true) { (req: Latentmesh_V1_GeneratorTrainRequest, ctx) in
                try await train(req, context: ctx, models: models)
            },
            .typed("generator.generate", summary: "prompts -> PNG images (Euler/Heun sampling with classifier-free guidance)") {
                (req: Latentmesh_V1_GenerateRequest, ctx) in
                try await generate(req, context: ctx, models: models)
            },
            .typed("generator.evaluate", summary: "sample balanced fmnist-color prompts and score them: gFD, class and colour accuracy with spreads",
                   isLongRunning: true) { (req: Latentmesh_V1_GeneratorEvaluateRequest, ctx) in
                try await evaluate(req, context: ctx, models: models)
            },
        ]
    }
}

/// Process-wide caches of loaded generators, tokenizers and the MiniLM prompt encoder.
public final class GeneratorModels: @unchecked Sendable {
    let generators = ModelCache<FlowGenModel> { try FlowGenCheckpoint.load(from: $0.path) }
    let tokenizers = ModelCache<VTPTokenizer> { try VTPTokenizer(checkpointPath: $0.path) }
    private let lock = NSLock()
    private var prompts: PromptEncoder?
    private var evaluators: [String: GenerationEvaluator] = [:]

    public init() {}

    /// The frozen MiniLM prompt encoder, loaded once.
    func promptEncoder() throws -> PromptEncoder {
        lock.lock(); defer { lock.unlock() }
        if let p = prompts { return p }
        do { prompts = try PromptEncoder.miniLM() } catch {
            throw ServiceError(.unavailable, "MiniLM text encoder not available (run scripts/bootstrap): \(error)")
        }
        return prompts!
    }

    /// The evaluator prepared for `preset` in this process, if any.
    func cachedEvaluator(_ preset: String) -> GenerationEvaluator? {
        lock.lock(); defer { lock.unlock() }
        return evaluators[preset]
    }

    func storeEvaluator(_ e: GenerationEvaluator, _ preset: String) {
        lock.lock(); evaluators[preset] = e; lock.unlock()
    }

    /// The generator `name` (NOT_FOUND naming `field` with a hint to train one).
    func generator(_ name: String, field: String, context: RunContext) throws -> (FlowGenModel, String) {
        let reg = try context.models()
        let rec = try reg.record(name, field: field, service: "generator",
                                 hint: "train one with `meshctl generator train` (scripts/run trains \(GeneratorService.defaultModel))")
        let m = try generators.model(name, field: field, service: "generator", registry: reg)
        return (m, rec.sha256)
    }

    /// The tokenizer `name` (as registered by tokenizer-svc).
    func tokenizer(_ name: String, field: String, context: RunContext) throws -> VTPTokenizer {
        try tokenizers.model(name, field: field, service: "tokenizer", hint: "train one with `meshctl train tokenizer`",
                             registry: try context.models())
    }
}
