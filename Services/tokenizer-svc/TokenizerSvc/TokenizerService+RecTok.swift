import ComputeCore
import Evaluation
import Foundation
import MeshKit
import MeshProto
import RecTok

/// `tokenizer.train` of a `rectok-*` preset (METHODS.md §2): the experiment's axes come from the
/// request (`latent_channels`, `fsd`, `teacher`, `teacher_checkpoint`), `steps` is the total of
/// both phases (joint, then decoder-only fine-tune, split in the preset's ratio) and the
/// teacher's features are computed once per (teacher, dataset, images) and kept in the artifact
/// store (`cache.rectok.<key>` registry entries), so a second run does not recompute them.
extension TokenizerService {
    /// Registry kind of a trained RecTok tokenizer.
    public static let rectokModelKind = "rectok-tokenizer"
    /// Media type of a RecTok checkpoint artifact.
    public static let rectokMediaType = "application/vnd.latentmesh.rectok+safetensors"
    /// Latent widths `latent_channels` accepts (0 = the preset's).
    public static let latentChannelsRange: ClosedRange<Int64> = 1...256

    /// The resolved RecTok configuration of a `rectok-*` request (INVALID_ARGUMENT naming the field
    /// and its limit). A `vtp-trunk` teacher keeps the registry name in `teacher.checkpoint` until
    /// `trainRecTok` resolves it to the checkpoint file.
    static func validateRecTok(_ req: Latentmesh_V1_TokenizerTrainRequest) throws -> RecTokConfig {
        guard req.latentChannels == 0 || latentChannelsRange.contains(req.latentChannels) else {
            throw ServiceError(.invalidArgument, field: "latent_channels",
                               "latent_channels = \(req.latentChannels) is out of range: must be in \(latentChannelsRange.lowerBound)...\(latentChannelsRange.upperBound) (0 = the preset's 16)")
        }
        let fsd: Bool
        switch req.fsd.lowercased() {
        case "", "on": fsd = true
        case "off": fsd = false
        default: throw ServiceError.invalid("fsd", "'\(req.fsd)' must be \"on\" or \"off\" (empty = on)")
        }
        let kinds = RecTokTeacherKind.allCases.map(\.rawValue).joined(separator: ", ")
        let teacher = req.teacher.isEmpty ? nil : RecTokTeacherKind(rawValue: req.teacher.lowercased())
        guard req.teacher.isEmpty || teacher != nil else { throw ServiceError.invalid("teacher", "'\(req.teacher)' is not a teacher; use one of \(kinds)") }
        guard fsd || teacher == nil else { throw ServiceError.invalid("teacher", "needs fsd on (with fsd off there is no semantic head to teach)") }
        guard req.teacherCheckpoint.isEmpty || teacher == .vtpTrunk else {
            throw ServiceError.invalid("teacher_checkpoint", "applies to teacher \(RecTokTeacherKind.vtpTrunk.rawValue) only")
        }
        if teacher == .vtpTrunk {
            guard !req.teacherCheckpoint.isEmpty else {
                throw ServiceError.invalid("teacher_checkpoint", "must name a registered VTP tokenizer for teacher \(RecTokTeacherKind.vtpTrunk.rawValue)")
            }
            try ModelRegistry.validate(name: req.teacherCheckpoint, field: "teacher_checkpoint")
        }
        var config: RecTokConfig
        do {
            config = try RecTokPresets.resolve(req.preset, latentChannels: req.latentChannels == 0 ? 16 : Int(req.latentChannels), fsd: fsd)
        } catch {
            throw ServiceError.invalid("preset", "unknown preset '\(req.preset)'; use one of \(TokenizerPresets.names.joined(separator: ", "))")
        }
        if let teacher { config.teacher.kind = teacher }
        if teacher == .vtpTrunk { config.teacher.checkpoint = req.teacherCheckpoint }
        if req.steps > 0 {
            let total = Int(req.steps)
            let decoder = min(total - 1, total * config.train.decoderSteps / max(1, config.totalSteps))
            config.train.decoderSteps = decoder
            config.train.steps = total - decoder
        }
        if req.trainLimit > 0 { config.train.trainLimit = Int(req.trainLimit) }
        config.train.seed = req.seed
        config = try ConfigOverrides.apply(req.configOverrides, to: config)
        do { try config.validate() } catch { throw ServiceError.invalid("config_overrides", "\(error)") }
        return config
    }

    /// Resolves the teacher, prepares its cached features, and runs a `RecTokTrainingSession`.
    static func trainRecTok(_ validated: RecTokConfig, name: String, request req: Latentmesh_V1_TokenizerTrainRequest,
                            context: RunContext, result: Latentmesh_V1_TokenizerTrainResult) async throws -> Latentmesh_V1_TokenizerTrainResult {
        var config = validated
        var parents: [String] = []
        let registry = try context.models()
        if config.fsd && config.teacher.kind == .vtpTrunk, let teacherName = config.teacher.checkpoint {
            let rec = try registry.record(teacherName, field: "teacher_checkpoint", service: "tokenizer",
                                          hint: "train one with tokenizer.train and a vtp-* preset")
            guard rec.kind == modelKind else {
                throw ServiceError.invalid("teacher_checkpoint", "'\(teacherName)' is a \(rec.kind); the teacher trunk must be a \(modelKind)")
            }
            config.teacher.checkpoint = try registry.file(rec, field: "teacher_checkpoint").path
            parents.append(teacherName)
        }
        let trainer: RecTokTrainer
        do { trainer = try await context.compute { try RecTokTrainer(config: config) } } catch let e as MethodError { throw e } catch {
            throw ServiceError(.unavailable, "cannot set up RecTok training (teacher \(config.teacher.kind.rawValue) weights or dataset \(config.train.dataset) missing? run scripts/bootstrap): \(error)")
        }
        if let teacher = trainer.teacher {
            await context.progress(step: 0, total: 0, message: "teacher features (\(teacher.teacher.name)) of \(trainer.data.train.count) training images")
            let runID = context.runID
            let store = EvaluationCache(lookup: { try registry.cachedFile("cache.rectok." + $0) }, save: { key, file, kind in
                try registry.storeCachedFile("cache.rectok." + key, file: file, kind: kind, service: "tokenizer", runID: runID)
            })
            let loaded = try await context.compute { try trainer.prepareTeacher(store: store) }
            context.logger.info("teacher \(teacher.teacher.name): \(loaded) feature maps from the artifact store, \(teacher.computed) computed")
        }
        let session = RecTokTrainingSession(trainer)
        let plan = TrainingPlan(modelName: name, kind: rectokModelKind, mediaType: rectokMediaType, configJSON: try config.json(),
                                seed: config.train.seed, parents: parents, checkpointEvery: config.train.checkpointEvery, resume: req.resume)
        return try await TrainingRun.run(session, plan: plan, context: context, result: result)
    }
}
