import Foundation
import MeshKit
import MeshProto
import VTP

/// `tokenizer.train`: validates the request, builds a `VTPTrainingSession` and hands it to the
/// shared training driver (`TrainingRun`: progress, cancellation, checkpoints, resume, audit,
/// registration under the checkpoint name).
extension TokenizerService {
    static let textLock = NSLock()
    nonisolated(unsafe) static var sharedText: TextEmbeddingCache?

    /// The frozen MiniLM text embeddings, loaded once per process.
    static func text() throws -> TextEmbeddingCache {
        textLock.lock(); defer { textLock.unlock() }
        if let t = sharedText { return t }
        let t = try TextEmbeddingCache.miniLM()
        sharedText = t
        return t
    }

    /// A validated train request: the resolved config and the checkpoint name.
    public static func validate(_ req: Latentmesh_V1_TokenizerTrainRequest) throws -> (config: VTPConfig, name: String) {
        guard !req.preset.isEmpty else { throw ServiceError.invalid("preset", "must name a preset, e.g. vtp-fmnist32-s") }
        var config: VTPConfig
        do { config = try VTPPresets.resolve(req.preset) } catch {
            throw ServiceError.invalid("preset", "unknown preset '\(req.preset)'; use one of \(VTPPresets.names.joined(separator: ", "))")
        }
        guard (0...maxSteps).contains(req.steps) else { throw ServiceError.outOfRange("steps", req.steps, 0...maxSteps) }
        if req.steps > 0 { config.train.steps = Int(req.steps) }
        guard (0...maxTrainLimit).contains(req.trainLimit) else { throw ServiceError.outOfRange("train_limit", req.trainLimit, 0...maxTrainLimit) }
        if req.trainLimit > 0 { config.train.trainLimit = Int(req.trainLimit) }
        config.train.seed = req.seed
        config = try ConfigOverrides.apply(req.configOverrides, to: config)
        do { try config.validate() } catch { throw ServiceError.invalid("config_overrides", "\(error)") }
        let name = req.checkpointName.isEmpty ? req.preset : req.checkpointName
        try ModelRegistry.validate(name: name, field: "checkpoint_name")
        return (config, name)
    }

    static func train(_ req: Latentmesh_V1_TokenizerTrainRequest, context: RunContext) async throws -> Latentmesh_V1_TokenizerTrainResult {
        let (config, name) = try validate(req)
        let session: VTPTrainingSession
        do { session = VTPTrainingSession(try VTPTrainer(config: config, text: try text())) } catch {
            throw ServiceError(.internalError, "cannot set up training: \(error)")
        }
        let plan = TrainingPlan(modelName: name, kind: modelKind, mediaType: "application/vnd.latentmesh.vtp+safetensors",
                                configJSON: try config.json(), seed: config.train.seed,
                                checkpointEvery: config.train.checkpointEvery, resume: req.resume)
        var result = Latentmesh_V1_TokenizerTrainResult()
        result.checkpointName = name
        return try await TrainingRun.run(session, plan: plan, context: context, result: result)
    }
}
