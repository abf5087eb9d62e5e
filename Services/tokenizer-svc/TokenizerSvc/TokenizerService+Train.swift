import Foundation
import MeshKit
import MeshProto
import VTP

/// `tokenizer.train`: validates the request, resolves the preset of either method (`vtp-*`:
/// `VTPTrainingSession`; `rectok-*`: `RecTokTrainingSession`, TokenizerService+RecTok) and hands
/// the session to the shared training driver (`TrainingRun`: progress, cancellation, checkpoints,
/// resume, audit, registration under the checkpoint name).
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

    /// A validated train request: the resolved config of the preset's method and the checkpoint
    /// name. INVALID_ARGUMENT naming the field and its limit; the RecTok-only fields
    /// (`latent_channels`, `fsd`, `teacher`, `teacher_checkpoint`) are refused with a VTP preset.
    public static func validate(_ req: Latentmesh_V1_TokenizerTrainRequest) throws -> TokenizerTrainConfig {
        guard !req.preset.isEmpty else { throw ServiceError.invalid("preset", "must name a preset, e.g. vtp-fmnist32-s or rectok-fmnistc32-s") }
        guard (0...maxSteps).contains(req.steps) else { throw ServiceError.outOfRange("steps", req.steps, 0...maxSteps) }
        guard (0...maxTrainLimit).contains(req.trainLimit) else { throw ServiceError.outOfRange("train_limit", req.trainLimit, 0...maxTrainLimit) }
        let name = req.checkpointName.isEmpty ? req.preset : req.checkpointName
        try ModelRegistry.validate(name: name, field: "checkpoint_name")
        if TokenizerPresets.isRecTok(req.preset) { return TokenizerTrainConfig(method: .rectok(try validateRecTok(req)), name: name) }
        return TokenizerTrainConfig(method: .vtp(try validateVTP(req)), name: name)
    }

    /// The resolved VTP configuration of a `vtp-*` request.
    static func validateVTP(_ req: Latentmesh_V1_TokenizerTrainRequest) throws -> VTPConfig {
        let recTokOnly: [(String, Bool)] = [("latent_channels", req.latentChannels != 0), ("fsd", !req.fsd.isEmpty),
                                           ("teacher", !req.teacher.isEmpty), ("teacher_checkpoint", !req.teacherCheckpoint.isEmpty)]
        if let (field, _) = recTokOnly.first(where: \.1) {
            throw ServiceError.invalid(field, "applies to RecTok presets (\(TokenizerPresets.rectokPrefix)*) only, not to '\(req.preset)'; leave it unset")
        }
        var config: VTPConfig
        do { config = try VTPPresets.resolve(req.preset) } catch {
            throw ServiceError.invalid("preset", "unknown preset '\(req.preset)'; use one of \(TokenizerPresets.names.joined(separator: ", "))")
        }
        if req.steps > 0 { config.train.steps = Int(req.steps) }
        if req.trainLimit > 0 { config.train.trainLimit = Int(req.trainLimit) }
        config.train.seed = req.seed
        config = try ConfigOverrides.apply(req.configOverrides, to: config)
        do { try config.validate() } catch { throw ServiceError.invalid("config_overrides", "\(error)") }
        return config
    }

    static func train(_ req: Latentmesh_V1_TokenizerTrainRequest, context: RunContext) async throws -> Latentmesh_V1_TokenizerTrainResult {
        let plan = try validate(req)
        var result = Latentmesh_V1_TokenizerTrainResult()
        result.checkpointName = plan.name
        switch plan.method {
        case .rectok(let config):
            return try await trainRecTok(config, name: plan.name, request: req, context: context, result: result)
        case .vtp(let config):
            let session: VTPTrainingSession
            do { session = VTPTrainingSession(try VTPTrainer(config: config, text: try text())) } catch {
                throw ServiceError(.internalError, "cannot set up training: \(error)")
            }
            let run = TrainingPlan(modelName: plan.name, kind: modelKind, mediaType: mediaType,
                                   configJSON: try config.json(), seed: config.train.seed,
                                   checkpointEvery: config.train.checkpointEvery, resume: req.resume)
            return try await TrainingRun.run(session, plan: run, context: context, result: result)
        }
    }
}
