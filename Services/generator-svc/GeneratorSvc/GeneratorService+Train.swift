import ComputeCore
import Datasets
import FlowGen
import Foundation
import MeshKit
import MeshProto
import RunStore
import VTP

/// `generator.train`: validates, prepares the cached training data (dataset latents of the named
/// tokenizer, MiniLM token features of every caption), builds a `FlowGenTrainingSession` and hands
/// it to the shared training driver (progress with loss terms, checkpoints, resume, audit,
/// registration with the tokenizer as parent).
extension GeneratorService {
    public static let maxTrainSteps: Int64 = 1_000_000

    /// A validated train request.
    public struct TrainParameters: Sendable {
        public var preset: String
        public var tokenizer: String
        public var modelName: String
        /// nil: the tokenizer's own dataset.
        public var dataset: String?
        public var steps: Int?
        public var seed: UInt64
        public var resume: Bool
        public var previewEvery: Int
        public var trainLimit: Int
    }

    /// INVALID_ARGUMENT naming the field and its limit.
    public static func validate(_ req: Latentmesh_V1_GeneratorTrainRequest) throws -> TrainParameters {
        let preset = req.preset.isEmpty ? FlowGenPresets.defaultName : req.preset
        guard FlowGenPresets.names.contains(preset) else {
            throw ServiceError.invalid("preset", "unknown preset '\(req.preset)'; use one of \(FlowGenPresets.names.joined(separator: ", "))")
        }
        guard !req.tokenizerCheckpoint.isEmpty else {
            throw ServiceError.invalid("tokenizer_checkpoint", "must name a registered tokenizer (train one with `meshctl train tokenizer`)")
        }
        try ModelRegistry.validate(name: req.tokenizerCheckpoint, field: "tokenizer_checkpoint")
        guard (0...maxTrainSteps).contains(req.steps) else { throw ServiceError.outOfRange("steps", req.steps, 0...maxTrainSteps) }
        let name = req.modelName.isEmpty ? defaultModel : req.modelName
        try ModelRegistry.validate(name: name, field: "model_name")
        guard (0...1_000_000).contains(req.previewEvery) else { throw ServiceError.outOfRange("preview_every", req.previewEvery, 0...1_000_000) }
        guard (0...10_000_000).contains(req.trainLimit) else { throw ServiceError.outOfRange("train_limit", req.trainLimit, 0...10_000_000) }
        let dataset = req.dataset.isEmpty ? nil : req.dataset
        return TrainParameters(preset: preset, tokenizer: req.tokenizerCheckpoint, modelName: name, dataset: dataset,
                               steps: req.steps > 0 ? Int(req.steps) : nil, seed: req.seed, resume: req.resume,
                               previewEvery: Int(req.previewEvery), trainLimit: Int(req.trainLimit))
    }

    static func train(_ req: Latentmesh_V1_GeneratorTrainRequest, context: RunContext,
                      models: GeneratorModels) async throws -> Latentmesh_V1_GeneratorTrainResult {
        let p = try validate(req)
        let registry = try context.models()
        let tokRecord = try registry.record(p.tokenizer, field: "tokenizer_checkpoint", service: "tokenizer",
                                            hint: "train one with `meshctl train tokenizer`")
        let tok = try models.tokenizer(p.tokenizer, field: "tokenizer_checkpoint", context: context)
        let datasetName = p.dataset ?? tok.datasetName
        let dataset: any ImageDataset
        do { dataset = try DatasetCatalog.open(datasetName, resolution: tok.imageSize, rgb: true) } catch {
            throw ServiceError.invalid("dataset", "\(error)")
        }
        var config: FlowGenConfig
        do {
            config = try FlowGenPresets.resolve(p.preset, grid: tok.latentShape[0], channels: tok.latentChannels, steps: p.steps)
        } catch { throw ServiceError.invalid("preset", "\(error)") }
        // A tokenizer trained on a flow schedule (RecTok) fixes the generator's schedule: its timestep
        // shift, applied to uniform t (METHODS.md §2 "Generator side").
        if let shift = tok.latentNoiseShift { config.model.shift = shift; config.train.timeSampling = .uniform }
        config.train.seed = p.seed
        var indices = try DatasetSplit.indices(of: dataset, part: .train, validationFraction: 0.1, seed: 1234)
        if p.trainLimit > 0 && indices.count > p.trainLimit { indices = Array(indices.prefix(p.trainLimit)) }

        let cache = TrainingDataCache(registry: registry, context: context)
        let raw = try await cache.latents(tokenizer: tok, tokenizerSHA: tokRecord.sha256, tokenizerName: p.tokenizer,
                                          dataset: dataset, datasetName: datasetName, indices: indices)   // [N, T, C]
        let perImage = indices.map { dataset.captions(at: $0) }
        let unique = Array(Set(perImage.joined())).sorted()
        let features = try await cache.textFeatures(unique, encoder: try models.promptEncoder())
        let position = Dictionary(uniqueKeysWithValues: unique.enumerated().map { ($0.element, $0.offset) })
        let normalizer = LatentNormalizer.fit(raw)
        let data: FlowGenData
        do {
            data = try FlowGenData(latents: normalizer.normalize(raw), texts: features,
                                   captions: perImage.map { $0.map { position[$0]! } })
        } catch { throw ServiceError.invalid("dataset", "\(error)") }

        let encoder = try models.promptEncoder()
        let previewText = previewPrompts.map { encoder.features(of: $0) }
        let previewEvery = p.previewEvery > 0 ? p.previewEvery : max(config.train.checkpointEvery / 2, 1)
        let session: FlowGenTrainingSession
        do {
            session = FlowGenTrainingSession(try FlowGenTrainer(config: config), data: data, normalizer: normalizer,
                                             metadata: ["tokenizer": p.tokenizer, "tokenizer_sha256": tokRecord.sha256, "dataset": datasetName])
        } catch { throw ServiceError(.internalError, "cannot set up training: \(error)") }
        session.previewEvery = previewEvery
        session.onPreview = { step, model in
            let sampler = try FlowSampler(model: model, normalizer: normalizer,
                                          request: SampleRequest(prompts: previewText, seeds: previewText.indices.map { UInt64($0) },
                                                                 steps: 16, guidance: 3))
            sampler.run()
            let imgs = try tok.decode(sampler.latents)
            let grid = try ImageGrid.make(imgs, columns: 4, cellSize: 64, captions: previewPrompts)
            let png = Data(try PNGCodec.encode(grid))
            Task { await context.preview(step: step, png: png, caption: "EMA samples at step \(step), guidance 3, 16 Euler steps") }
        }
        let plan = TrainingPlan(modelName: p.modelName, kind: modelKind, mediaType: "application/vnd.latentmesh.flowgen+safetensors",
                                configJSON: try config.json(), seed: config.train.seed, parents: [p.tokenizer],
                                checkpointEvery: config.train.checkpointEvery, resume: p.resume)
        var result = Latentmesh_V1_GeneratorTrainResult()
        result.modelName = p.modelName
        result.tokenizer = p.tokenizer
        return try await TrainingRun.run(session, plan: plan, context: context, result: result)
    }
}
