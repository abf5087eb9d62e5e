import ComputeCore
import Datasets
import Distill
import Evaluation
import FlowGen
import Foundation
import MeshKit
import MeshProto
import RecTok
import RunStore
import VTP

/// generator-svc handlers: adapt `generator.{train,generate,evaluate}` messages to the FlowGen library.
/// Latents are decoded (and training images encoded) by the tokenizer the generator names (VTP or
/// RecTok, any `LatentTokenizer`),
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
            .typed("generator.generate", summary: "prompts -> PNG images (a generator's Euler/Heun sampling with classifier-free guidance, or a distilled student's own 1-4-step rule)") {
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

/// Process-wide caches of loaded generators, distilled students, tokenizers and the MiniLM prompt encoder.
public final class GeneratorModels: @unchecked Sendable {
    let generators = ModelCache<FlowGenModel> { try FlowGenCheckpoint.load(from: $0.path) }
    let students = ModelCache<DistilledModel> { try DistillCheckpoint.load(from: $0.path) }
    let tokenizers = ModelCache<any LatentTokenizer> { try LatentTokenizers.load(checkpointPath: $0.path) }
    /// Batches concurrent `generator.generate` requests (`GenerationBatcher`).
    public let batcher: GenerationBatcher
    private let lock = NSLock()
    private var evaluators: [String: GenerationEvaluator] = [:]

    /// `maxBatch` images per batch (1 = no batching), waiting at most `maxBatchWait` seconds for company.
    public init(maxBatch: Int = 1, maxBatchWait: Double = 0) {
        batcher = GenerationBatcher(maxImages: maxBatch, maxWait: maxBatchWait)
    }

    /// The frozen MiniLM prompt encoder (the process's one `PromptEncoder.shared()`).
    public func promptEncoder() throws -> PromptEncoder {
        do { return try PromptEncoder.shared() } catch {
            throw ServiceError(.unavailable, "MiniLM text encoder not available (run scripts/bootstrap): \(error)")
        }
    }

    /// The model `name` generate serves: a FlowGen generator or a distilled student (NOT_FOUND
    /// naming `field` with a hint to train one; another service's model is INVALID_ARGUMENT).
    public func served(_ name: String, field: String, context: RunContext) throws -> (ServedModel, ModelRecord) {
        let reg = try context.models()
        let rec = try reg.record(name, field: field,
                                 hint: "train one with `meshctl generator train` (scripts/run trains \(GeneratorService.defaultModel)) or `meshctl distill train`")
        return (try ServedModel.load(rec, field: field, models: self, registry: reg), rec)
    }

    private var anchorCache: [String: [String: Double]] = [:]

    func cachedAnchors(_ key: String) -> [String: Double]? { lock.withLock { anchorCache[key] } }
    func storeAnchors(_ a: [String: Double], _ key: String) { lock.withLock { anchorCache[key] = a } }

    /// The evaluator prepared for `preset` in this process, if any.
    func cachedEvaluator(_ preset: String) -> GenerationEvaluator? {
        lock.lock(); defer { lock.unlock() }
        return evaluators[preset]
    }

    func storeEvaluator(_ e: GenerationEvaluator, _ preset: String) {
        lock.lock(); evaluators[preset] = e; lock.unlock()
    }

    /// The FlowGen generator `name` and its checkpoint hash (NOT_FOUND naming `field` with a hint to train one).
    func generator(_ name: String, field: String, context: RunContext) throws -> (FlowGenModel, String) {
        let reg = try context.models()
        let rec = try reg.record(name, field: field, service: "generator",
                                 hint: "train one with `meshctl generator train` (scripts/run trains \(GeneratorService.defaultModel))")
        return (try generators.model(name, field: field, service: "generator", registry: reg), rec.sha256)
    }

    /// The tokenizer `name` as registered by tokenizer-svc, of any kind (VTP or RecTok, by its checkpoint).
    public func tokenizer(_ name: String, field: String, context: RunContext) throws -> any LatentTokenizer {
        try tokenizers.model(name, field: field, service: "tokenizer", hint: "train one with `meshctl train tokenizer`",
                             registry: try context.models())
    }
}
