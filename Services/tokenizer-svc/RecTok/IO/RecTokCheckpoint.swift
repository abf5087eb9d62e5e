import ComputeCore
import Foundation

/// Checkpoints: one safetensors file holding the model, both phases' optimiser moments
/// (`optim.m.*`, `optim.v.*`; the decoder fine-tune's under `finetune.`); metadata carries the
/// resolved config JSON (`config`), the completed step (`step`), the teacher that gave the
/// semantic targets (`teacher`, "none" without FSD) and `format` = `latentmesh.rectok.v1`.
public enum RecTokCheckpoint {
    public static let format = "latentmesh.rectok.v1"

    /// Writes the trainer's full state to `path`.
    public static func save(_ trainer: RecTokTrainer, to path: String) throws {
        let tensors = trainer.model.namedParameters() + trainer.optimizer.state() + trainer.decoderOptimizer.state()
        try Safetensors.write(tensors, metadata: [
            "format": format, "config": try trainer.config.json(), "step": String(trainer.stepIndex),
            "optim_step": String(trainer.optimizer.stepCount), "finetune_step": String(trainer.decoderOptimizer.stepCount),
            "teacher": trainer.teacher?.teacher.name ?? "none",
        ], to: path)
    }

    /// The resolved configuration, completed step and teacher name stored in a checkpoint.
    public static func header(at path: String) throws -> (config: RecTokConfig, step: Int, teacher: String) {
        let f = try SafetensorsFile(path: path)
        guard f.metadata["format"] == format, let json = f.metadata["config"], let step = f.metadata["step"].flatMap(Int.init) else {
            throw MethodError.checkpoint("\(path) is not a \(format) checkpoint")
        }
        return (try RecTokConfig.from(json: json), step, f.metadata["teacher"] ?? "none")
    }

    /// Restores model, both optimisers and the step into `trainer` (configs must match except step counts).
    public static func restore(_ trainer: RecTokTrainer, from path: String) throws {
        let (cfg, step, _) = try header(at: path)
        guard cfg.model == trainer.config.model, cfg.fsd == trainer.config.fsd, cfg.teacher == trainer.config.teacher else {
            throw MethodError.checkpoint("checkpoint \(cfg.modelName) does not match the trainer's model (\(trainer.config.modelName))")
        }
        let f = try SafetensorsFile(path: path)
        let all = try f.all()
        try trainer.model.load(all)
        try trainer.optimizer.load(all, stepCount: Int(f.metadata["optim_step"] ?? "") ?? step)
        try trainer.decoderOptimizer.load(all, stepCount: Int(f.metadata["finetune_step"] ?? "") ?? 0)
        trainer.stepIndex = step
    }

    /// Loads only the model for inference.
    public static func loadModel(from path: String) throws -> (RecTokModel, RecTokConfig) {
        let (cfg, _, _) = try header(at: path)
        let all = try SafetensorsFile(path: path).all()
        let channels = all["semantic.proj_out.weight"]?.shape[0]
        let model = RecTokModel(cfg.model, teacherChannels: cfg.fsd ? channels : nil, seed: cfg.train.seed)
        try model.load(all)
        return (model, cfg)
    }
}
