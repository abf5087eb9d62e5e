import ComputeCore
import Datasets
import Evaluation
import FlowGen
import Foundation
import MeshKit
import MeshProto
import RunStore
import VTP

/// `generator.evaluate`: sample `images` prompts balanced over fmnist-color's (class, colour) pairs
/// (caption templates, attributes kept; image i from noise of seed + i) as one step iterator
/// with progress and cancellation between steps, decode with the generator's tokenizer, then
/// score them with the shared `GenerationEvaluator` (gFD vs the real test split, class and colour
/// accuracy, bootstrap spreads). Reference statistics and the class judge are computed once and
/// kept in the artifact store (`cache.eval.*` registry entries). The metrics also carry two
/// anchors scored the same way on as many images: `real_*` (real fmnist-color training images,
/// never the reference split) and `recon_*` (the generator's tokenizer's reconstructions of
/// them) — the floor of gFD and the ceiling of accuracy that generation on this tokenizer can reach.
/// A generator trained on another dataset (its checkpoint's `dataset`, e.g. `emoji`) is scored on
/// gFD alone: prompts are that dataset's own captions, the reference is the whole dataset (no
/// held-out test split), and the anchors are real images of it and their reconstructions.
extension GeneratorService {
    /// The dataset whose test split and attribute judges `generator.evaluate` knows.
    public static let attributeDataset = "fmnist-color"

    public static let evalImageRange: ClosedRange<Int32> = 2...10_000
    public static let defaultEvalImages: Int32 = 2000
    public static let defaultEvalGuidance: Float = 3
    /// Evaluator settings a request can name.
    public static let evaluatorPresets = ["standard", "quick"]

    /// A validated evaluate request.
    public struct EvaluateParameters: Sendable {
        public var model: String
        public var images: Int
        public var steps: Int
        public var guidance: Float
        public var seed: UInt64
        public var sampler: SamplerKind
        public var evaluator: String
    }

    /// INVALID_ARGUMENT naming the field and its limit for every bad field.
    public static func validate(_ req: Latentmesh_V1_GeneratorEvaluateRequest) throws -> EvaluateParameters {
        let model = req.modelName.isEmpty ? defaultModel : req.modelName
        try ModelRegistry.validate(name: model, field: "model_name")
        let images = req.images == 0 ? defaultEvalImages : req.images
        guard evalImageRange.contains(images) else { throw ServiceError.outOfRange("images", req.images, evalImageRange) }
        let guidance = req.hasGuidance ? req.guidance : defaultEvalGuidance
        let (steps, sampler) = try validateSampling(steps: req.steps, guidance: guidance, sampler: req.sampler)
        let evaluator = req.evaluator.isEmpty ? "standard" : req.evaluator
        guard evaluatorPresets.contains(evaluator) else {
            throw ServiceError.invalid("evaluator", "'\(req.evaluator)' is not an evaluator setting; use one of \(evaluatorPresets.joined(separator: ", "))")
        }
        return EvaluateParameters(model: model, images: Int(images), steps: steps, guidance: guidance, seed: req.seed,
                                  sampler: sampler, evaluator: evaluator)
    }

    /// The evaluator options of a preset name.
    static func evaluatorOptions(_ name: String) -> GenerationEvaluator.Options { name == "quick" ? .quick : .standard }

    static func evaluate(_ req: Latentmesh_V1_GeneratorEvaluateRequest, context: RunContext,
                         models: GeneratorModels) async throws -> Latentmesh_V1_GeneratorEvaluateResult {
        let p = try validate(req)
        let t0 = Date()
        let (gen, _) = try models.generator(p.model, field: "model_name", context: context)
        guard let tokName = gen.metadata["tokenizer"] else {
            throw ServiceError(.internalError, field: "model_name", "generator '\(p.model)' does not name its tokenizer")
        }
        let tok = try models.tokenizer(tokName, field: "model_name", context: context)
        let encoder = try models.promptEncoder()
        let dataset = gen.metadata["dataset"] ?? attributeDataset
        let evaluator = try await models.evaluator(p.evaluator, dataset: dataset, context: context)
        let prompts: [(text: String, attributes: PromptAttributes?)]
        if dataset == attributeDataset {
            prompts = GenerationPrompts.fmnistColor(count: p.images, seed: p.seed).map { ($0.text, $0.attributes) }
        } else {
            let data = try DatasetCatalog.open(dataset, resolution: tok.imageSize, rgb: true)
            prompts = GenerationPrompts.captions(of: data, count: p.images, seed: p.seed).map { ($0, nil) }
        }
        var unique: [String: TextFeatures] = [:]
        let features = prompts.map { pr -> TextFeatures in
            if let f = unique[pr.text] { return f }
            let f = encoder.features(of: pr.text)
            unique[pr.text] = f
            return f
        }
        let set = try ImageSetSampler(model: gen, prompts: features, seeds: prompts.indices.map { p.seed &+ UInt64($0) },
                                      steps: p.steps, guidance: p.guidance, sampler: p.sampler) { try tok.decode($0) }
        while !set.isFinished {
            try context.checkCancelled()
            _ = try await context.compute { try set.next() }
            if set.completedSteps % max(1, p.steps / 4) == 0 || set.isFinished {
                await context.progress(step: set.completedSteps, total: set.totalSteps + 1,
                                       metrics: ["images_done": Double(set.images.count)],
                                       itemsPerSecond: Double(set.images.count) / max(Date().timeIntervalSince(t0), 1e-9),
                                       message: "sampling \(p.images) images: \(set.images.count) done")
            }
            await Task.yield()
        }
        try context.checkCancelled()
        await context.progress(step: set.totalSteps, total: set.totalSteps + 1,
                               message: "scoring \(p.images) images (EfficientNet features\(evaluator.judge == nil ? "" : ", classifier, hue"))")
        let attributes = evaluator.judge == nil ? nil : prompts.map { $0.attributes! }
        let images = set.images
        let m = try await context.compute {
            try evaluator.evaluate(images, attributes: attributes, progress: { _, _ in context.heartbeat() })
        }
        // Anchors for reading the numbers: the same evaluator on real training images and on the
        // tokenizer's reconstructions of them (once per tokenizer, evaluator, count and seed).
        let tokSHA = try context.models().record(tokName, field: "model_name", service: "tokenizer",
                                                 hint: "train one with `meshctl tokenizer train`").sha256
        let anchors = try await models.anchors(preset: p.evaluator, dataset: dataset, tokenizerSHA: tokSHA, count: p.images, seed: p.seed,
                                               evaluator: evaluator, tokenizer: tok, context: context)
        var resp = Latentmesh_V1_GeneratorEvaluateResult()
        resp.modelName = p.model
        resp.metrics = m.dictionary.merging(anchors) { a, _ in a }
        resp.images = Int32(m.images); resp.referenceImages = Int32(m.referenceImages)
        resp.referenceDataset = m.referenceDataset; resp.fdResolution = Int32(m.fdResolution)
        resp.steps = Int32(p.steps); resp.guidance = p.guidance; resp.sampler = p.sampler.rawValue; resp.seed = p.seed
        resp.summary = m.summary
        let shown = Array(images.prefix(32))
        let grid = try ImageGrid.make(shown, columns: 8, cellSize: 64, captions: prompts.prefix(shown.count).map(\.text))
        if let store = context.artifacts {
            resp.grid = .init(try store.put(Data(try PNGCodec.encode(grid)), mediaType: "image/png", runID: context.runID))
        }
        resp.seconds = Date().timeIntervalSince(t0)
        return resp
    }
}

extension GeneratorModels {
    /// The shared evaluator for a preset, prepared once per process; its reference statistics and
    /// class judge live in the artifact store as `cache.eval.<key>` registry entries.
    /// `dataset` other than fmnist-color gets a gFD-only evaluator against the whole dataset.
    public func evaluator(_ preset: String, dataset: String = GeneratorService.attributeDataset,
                          context: RunContext) async throws -> GenerationEvaluator {
        let key = "\(preset)|\(dataset)"
        if let e = cachedEvaluator(key) { return e }
        let base = GeneratorService.evaluatorOptions(preset)
        let options = dataset == GeneratorService.attributeDataset ? base : .gFDOnly(dataset, base: base)
        let registry = try context.models()
        let runID = context.runID
        let cache = EvaluationCache(lookup: { try registry.cachedFile("cache.eval." + $0) }, save: { key, file, kind in
            try registry.storeCachedFile("cache.eval." + key, file: file, kind: kind, service: "generator", runID: runID)
        })
        await context.progress(step: 0, total: 0, message: "preparing the \(preset) evaluator (reference statistics, class judge; once)")
        let e: GenerationEvaluator
        do {
            e = try await context.compute {
                try GenerationEvaluator(options: options, cache: cache,
                                        log: { context.logger.info("\($0)"); context.heartbeat() },
                                        progress: { _, _ in context.heartbeat() })
            }
        } catch let error as ServiceError { throw error } catch {
            throw ServiceError(.unavailable, "evaluator not available (EfficientNet-Lite0 weights or \(dataset) missing? run scripts/bootstrap): \(error)")
        }
        storeEvaluator(e, key)
        return e
    }
}

extension GeneratorModels {
    /// `real_*` and `recon_*` metrics (see `generator.evaluate`), computed once per key in this process.
    /// On fmnist-color the real images are training images (never the reference split); on a
    /// gFD-only dataset they are a random part of the reference itself (at most all of it).
    func anchors(preset: String, dataset: String, tokenizerSHA: String, count: Int, seed: UInt64, evaluator: GenerationEvaluator,
                 tokenizer tok: any LatentTokenizer, context: RunContext) async throws -> [String: Double] {
        let key = "\(preset)|\(dataset)|\(tokenizerSHA)|\(count)|\(seed)"
        if let a = cachedAnchors(key) { return a }
        await context.progress(step: 0, total: 0, message: "anchors: scoring \(count) real \(dataset) images and their reconstructions (once)")
        let a: [String: Double] = try await context.compute {
            let train = try DatasetCatalog.open(dataset, resolution: tok.imageSize, rgb: true)
            var rng = SeededRNG(seed: SeededRNG.derive(seed, 77))
            var indices = Array(0..<train.count)
            for i in 0..<min(count, indices.count) { indices.swapAt(i, i + Int(rng.next() % UInt64(indices.count - i))) }
            indices = Array(indices.prefix(count))
            let real = try train.images(at: indices)
            let attributes = (train as? FashionMNISTColor).map { t in
                indices.map { i -> PromptAttributes in
                    let (c, k) = t.attributes(at: i)
                    return PromptAttributes(classIndex: c, colorIndex: k)
                }
            }
            var recon: [ImageBuffer] = []
            for start in stride(from: 0, to: real.count, by: 64) {
                let chunk = Array(real[start..<min(start + 64, real.count)])
                recon += try tok.decode(try tok.encode(chunk))
                context.heartbeat()
            }
            let r = try evaluator.evaluate(real, attributes: attributes, progress: { _, _ in context.heartbeat() })
            let q = try evaluator.evaluate(recon, attributes: attributes, progress: { _, _ in context.heartbeat() })
            var out: [String: Double] = [:]
            for (k, v) in r.dictionary where Self.anchorKeys.contains(k) { out["real_" + k] = v }
            for (k, v) in q.dictionary where Self.anchorKeys.contains(k) { out["recon_" + k] = v }
            return out
        }
        storeAnchors(a, key)
        return a
    }

    static let anchorKeys: Set<String> = ["gfd", "gfd_std", "gfd_low", "gfd_high", "class_accuracy", "class_accuracy_low",
                                          "class_accuracy_high", "color_accuracy", "color_accuracy_low", "color_accuracy_high"]
}
