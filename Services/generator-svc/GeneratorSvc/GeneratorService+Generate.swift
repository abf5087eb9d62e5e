import ComputeCore
import Datasets
import FlowGen
import Foundation
import MeshKit
import MeshProto

/// `generator.generate`: validate, sample every (prompt, j) image from noise of seed + j as a step
/// iterator (progress each step, x0 preview every k steps, cancellation between steps), decode
/// with the generator's tokenizer, tag each PNG with its parameters and store it as an artifact.
extension GeneratorService {
    /// A validated request.
    public struct GenerateParameters: Sendable {
        public var model: String
        public var prompts: [String]
        public var n: Int
        public var steps: Int
        public var guidance: Float
        public var seed: UInt64
        public var sampler: SamplerKind
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
        let (steps, sampler) = try validateSampling(steps: req.steps, guidance: req.guidance, sampler: req.sampler)
        guard (0...1000).contains(req.previewEvery) else { throw ServiceError.outOfRange("preview_every", req.previewEvery, 0...1000) }
        return GenerateParameters(model: model, prompts: req.prompts, n: n, steps: steps, guidance: req.guidance,
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
        let (gen, _) = try models.generator(p.model, field: "model_name", context: context)
        guard let tokName = gen.metadata["tokenizer"] else {
            throw ServiceError(.internalError, field: "model_name", "generator '\(p.model)' does not name its tokenizer")
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
        let sampler = try gen.sampler(SampleRequest(prompts: prompts, seeds: seeds, steps: p.steps,
                                                    guidance: p.guidance, sampler: p.sampler))
        while !sampler.isFinished {
            try context.checkCancelled()
            _ = await context.compute { sampler.next() }
            await context.progress(step: sampler.step, total: sampler.totalSteps,
                                   metrics: ["t": Double(sampler.isFinished ? 0 : sampler.t)],
                                   itemsPerSecond: Double(prompts.count * sampler.step) / max(Date().timeIntervalSince(t0), 1e-9))
            if p.previewEvery > 0 && sampler.step % p.previewEvery == 0 && !sampler.isFinished {
                let first = sampler.previewLatents.slice(axis: 0, 0, min(8, prompts.count)).copy()
                let imgs = try await context.compute { try tok.decode(first) }
                let grid = try ImageGrid.make(imgs, columns: min(8, imgs.count))
                await context.preview(step: sampler.step, png: Data(try PNGCodec.encode(grid)),
                                      caption: "x0 prediction at step \(sampler.step)/\(sampler.totalSteps)")
            }
            await Task.yield()
        }
        try context.checkCancelled()
        let latents = sampler.latents                                     // [B, T, C]
        // One image per decode: like the sampler, an image never depends on its batch.
        let images = try await context.compute {
            try (0..<latents.shape[0]).map { try tok.decode(latents.slice(axis: 0, $0, $0 + 1).copy())[0] }
        }
        var resp = Latentmesh_V1_GenerateResponse()
        resp.modelName = p.model; resp.tokenizer = tokName; resp.steps = Int32(p.steps)
        resp.sampler = p.sampler.rawValue; resp.guidance = p.guidance
        for (k, img) in images.enumerated() {
            let (i, j) = owners[k]
            let png = try PNGText.insert([
                ("prompt", p.prompts[i]), ("seed", String(seeds[k])), ("steps", String(p.steps)),
                ("guidance", String(p.guidance)), ("sampler", p.sampler.rawValue), ("model", p.model),
                ("tokenizer", tokName), ("commit", GitInfo.commit),
            ], into: try PNGCodec.encode(img))
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
}
