import ComputeCore
import Datasets
import FlowGen
import Foundation
import MeshKit
import MeshProto
import VTP

/// `generator.generate`: validate, resolve the model (a FlowGen generator or a distilled student,
/// `ServedModel`), sample every (prompt, j) image from noise of seed + j as a step iterator
/// (progress each step, x0 preview every k steps, cancellation between steps), decode with the
/// model's tokenizer, tag each PNG with its parameters and store it as an artifact.
extension GeneratorService {
    /// A validated request.
    public struct GenerateParameters: Sendable {
        public var model: String
        public var prompts: [String]
        public var n: Int
        /// nil = the model's default (28 for FlowGen, the student's own for a student).
        public var steps: Int?
        public var guidance: Float
        public var seed: UInt64
        /// nil = not given (FlowGen: euler; a student has its own rule).
        public var sampler: SamplerKind?
        public var previewEvery: Int
    }

    /// INVALID_ARGUMENT naming the field and its limit for every bad field.
    public static func validate(_ req: Latentmesh_V1_GenerateRequest) throws -> GenerateParameters {
        let model = req.modelName.isEmpty ? defaultModel : req.modelName
        try ModelRegistry.validate(name: model, field: "model_name")
        guard !req.prompts.isEmpty else { throw ServiceError.invalid("prompts", "must hold 1...\(maxPrompts) prompts, got none") }
        guard req.prompts.count <= maxPrompts else { throw ServiceError.outOfRange("prompts.count", req.prompts.count, 1...maxPrompts) }
        for (i, p) in req.prompts.enumerated() {
            guard !p.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ServiceError.invalid("prompts[\(i)]", "must not be empty") }
            guard p.count <= maxPromptLength else { throw ServiceError.outOfRange("prompts[\(i)].length", p.count, 1...maxPromptLength) }
        }
        let n = req.n == 0 ? 1 : Int(req.n)
        guard (1...maxImagesPerPrompt).contains(n) else { throw ServiceError.outOfRange("n", Int(req.n), 1...maxImagesPerPrompt) }
        guard req.steps == 0 || stepRange.contains(req.steps) else { throw ServiceError.outOfRange("steps", req.steps, stepRange) }
        guard req.guidance.isFinite, guidanceRange.contains(req.guidance) else {
            throw ServiceError.outOfRange("guidance", req.guidance, guidanceRange)
        }
        let sampler: SamplerKind? = req.sampler.isEmpty ? nil : SamplerKind(rawValue: req.sampler.lowercased())
        guard req.sampler.isEmpty || sampler != nil else {
            throw ServiceError.invalid("sampler", "'\(req.sampler)' is not a sampler; use one of \(SamplerKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (0...1000).contains(req.previewEvery) else { throw ServiceError.outOfRange("preview_every", req.previewEvery, 0...1000) }
        return GenerateParameters(model: model, prompts: req.prompts, n: n, steps: req.steps == 0 ? nil : Int(req.steps), guidance: req.guidance,
                                  seed: req.seed, sampler: sampler, previewEvery: Int(req.previewEvery))
    }

    /// The sampling fields every sampling request shares: steps (0 = 28), guidance, sampler ("" = euler).
    /// INVALID_ARGUMENT naming the field and its limit.
    static func validateSampling(steps: Int32, guidance: Float, sampler: String) throws -> (steps: Int, sampler: SamplerKind) {
        let n = steps == 0 ? defaultSteps : steps
        guard stepRange.contains(n) else { throw ServiceError.outOfRange("steps", steps, stepRange) }
        guard guidance.isFinite, guidanceRange.contains(guidance) else { throw ServiceError.outOfRange("guidance", guidance, guidanceRange) }
        let kind: SamplerKind? = sampler.isEmpty ? .euler : SamplerKind(rawValue: sampler.lowercased())
        guard let kind else {
            throw ServiceError.invalid("sampler", "'\(sampler)' is not a sampler; use one of \(SamplerKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return (Int(n), kind)
    }

    static func generate(_ req: Latentmesh_V1_GenerateRequest, context: RunContext,
                         models: GeneratorModels) async throws -> Latentmesh_V1_GenerateResponse {
        let p = try validate(req)
        let t0 = Date()
        let (served, record) = try models.served(p.model, field: "model_name", context: context)
        let settings = try served.settings(model: p.model, steps: p.steps, guidance: p.guidance, sampler: p.sampler)
        guard let tokName = served.metadata["tokenizer"] else {
            throw ServiceError(.internalError, field: "model_name", "model '\(p.model)' does not name its tokenizer")
        }
        let tok = try models.tokenizer(tokName, field: "model_name", context: context)
        let encoder = try models.promptEncoder()
        // Prompt-major order: prompt i, sample j starts from noise of seed + j.
        var prompts: [TextFeatures] = [], seeds: [UInt64] = [], owners: [(Int, Int)] = []
        for (i, text) in p.prompts.enumerated() {
            // `<name>` concepts resolve from the registry (NOT_FOUND names the unknown concept).
            let names = PromptEncoder.conceptNames(in: text)
            let concepts = try context.models().concepts(names, field: "prompts[\(i)]")
            let f = encoder.features(of: text, concepts: concepts.map(\.token), embeddings: concepts.flatMap(\.vector))
            for j in 0..<p.n { prompts.append(f); seeds.append(p.seed &+ UInt64(j)); owners.append((i, j)) }
        }
        // Sampled in a batch with concurrent requests of the same model and settings (byte-identical
        // to this request alone), then decoded image by image.
        let latents = try await models.batcher.sample(model: p.model, checkpoint: record.sha256, served: served, settings: settings,
                                                      prompts: prompts, seeds: seeds, tokenizer: tok, context: context,
                                                      previewEvery: p.previewEvery, urgent: req.meta.priority > 0)
        let images = try await decode(latents, tokenizer: tok, context: context)
        var resp = Latentmesh_V1_GenerateResponse()
        resp.modelName = p.model; resp.tokenizer = tokName; resp.steps = Int32(settings.steps)
        resp.sampler = settings.sampler; resp.guidance = settings.guidance
        var tags: [(String, String)] = [("steps", String(settings.steps)), ("guidance", String(settings.guidance)),
                                        ("sampler", settings.sampler), ("model", p.model), ("tokenizer", tokName)]
        if settings.distilledGuidance {
            tags.append(("guidance_mode", "distilled (no CFG pass; the request's guidance is not used)"))
            if let teacher = served.metadata["teacher"] { tags.append(("teacher", teacher)) }
        }
        tags.append(("commit", GitInfo.commit))
        for (k, img) in images.enumerated() {
            let (i, j) = owners[k]
            let png = try PNGText.insert([("prompt", p.prompts[i]), ("seed", String(seeds[k]))] + tags,
                                         into: try PNGCodec.encode(img))
            var g = Latentmesh_V1_GeneratedImage()
            g.prompt = p.prompts[i]; g.promptIndex = Int32(i); g.sample = Int32(j); g.seed = seeds[k]; g.png = Data(png)
            if let store = context.artifacts {
                g.artifact = .init(try store.put(Data(png), mediaType: "image/png", runID: context.runID))
            }
            resp.images.append(g)
            resp.imagesPng.append(Data(png))
        }
        resp.seconds = Date().timeIntervalSince(t0)
        return resp
    }

    /// Samples one image per (prompt, seed) with `model` and decodes each alone with `tokenizer`
    /// (an image never depends on its batch): progress every step (when `context` is given), an
    /// x0 preview grid every `previewEvery` steps, cancellation between steps.
    public static func sampleImages(_ model: ServedModel, settings: SamplingSettings, prompts: [TextFeatures],
                                    seeds: [UInt64], tokenizer tok: any LatentTokenizer, context: RunContext,
                                    previewEvery: Int = 0, reportProgress: Bool = true) async throws -> [ImageBuffer] {
        let t0 = Date()
        let sampler = try model.sampler(prompts: prompts, seeds: seeds, settings: settings)
        while !sampler.isFinished {
            try context.checkCancelled()
            _ = await context.compute { sampler.next() }
            if reportProgress {
                await context.progress(step: sampler.step, total: sampler.totalSteps, metrics: ["t": Double(sampler.t)],
                                       itemsPerSecond: Double(prompts.count * sampler.step) / max(Date().timeIntervalSince(t0), 1e-9))
            }
            if previewEvery > 0 && sampler.step % previewEvery == 0 && !sampler.isFinished {
                let first = sampler.previewLatents.slice(axis: 0, 0, min(8, prompts.count)).copy()
                let imgs = try await context.compute { try tok.decode(first) }
                let grid = try ImageGrid.make(imgs, columns: min(8, imgs.count))
                await context.preview(step: sampler.step, png: Data(try PNGCodec.encode(grid)),
                                      caption: "x0 estimate at step \(sampler.step)/\(sampler.totalSteps)")
            }
            await Task.yield()
        }
        try context.checkCancelled()
        return try await decode(sampler.latents, tokenizer: tok, context: context)
    }

    /// Decodes latents [B, T, C] image by image (an image never depends on its batch).
    static func decode(_ latents: Tensor, tokenizer tok: any LatentTokenizer, context: RunContext) async throws -> [ImageBuffer] {
        try await context.compute {
            try (0..<latents.shape[0]).map { try tok.decode(latents.slice(axis: 0, $0, $0 + 1).copy())[0] }
        }
    }
}
