import ComputeCore
import Foundation

/// Checkpoints: one safetensors file holding the model (student + teacher), optimiser moments
/// (`optim.m.*`, `optim.v.*`) and SSL centres (`state.*`); metadata carries the resolved config
/// JSON (`config`), the completed step (`step`) and `format` = `latentmesh.vtp.v1`.
public enum VTPCheckpoint {
    public static let format = "latentmesh.vtp.v1"

    /// Writes the trainer's full state to `path`.
    public static func save(_ trainer: VTPTrainer, to path: String) throws {
        var tensors = trainer.model.namedParameters()
        tensors += trainer.optimizer.state()
        let K = trainer.config.model.prototypes
        tensors.append(("state.dino_center", Tensor(trainer.dinoCenter, shape: [K])))
        tensors.append(("state.ibot_center", Tensor(trainer.ibotCenter, shape: [K])))
        try Safetensors.write(tensors, metadata: [
            "format": format, "config": try trainer.config.json(), "step": String(trainer.stepIndex),
            "optim_step": String(trainer.optimizer.stepCount),
        ], to: path)
    }

    /// The resolved configuration and completed step stored in a checkpoint.
    public static func header(at path: String) throws -> (config: VTPConfig, step: Int) {
        let f = try SafetensorsFile(path: path)
        guard f.metadata["format"] == format, let json = f.metadata["config"], let step = f.metadata["step"].flatMap(Int.init) else {
            throw MethodError.checkpoint("\(path) is not a \(format) checkpoint")
        }
        return (try VTPConfig.from(json: json), step)
    }

    /// Restores model, optimiser, centres and step into `trainer` (configs must match except steps).
    public static func restore(_ trainer: VTPTrainer, from path: String) throws {
        let f = try SafetensorsFile(path: path)
        let (cfg, step) = try header(at: path)
        guard cfg.model == trainer.config.model, cfg.variant == trainer.config.variant else {
            throw MethodError.checkpoint("checkpoint \(cfg.preset) does not match the trainer's model (\(trainer.config.preset))")
        }
        let all = try f.all()
        try trainer.model.load(all)
        try trainer.optimizer.load(all, stepCount: Int(f.metadata["optim_step"] ?? "") ?? step)
        if let c = all["state.dino_center"] { trainer.dinoCenter = c.array }
        if let c = all["state.ibot_center"] { trainer.ibotCenter = c.array }
        trainer.stepIndex = step
    }

    /// Loads only the model for inference.
    public static func loadModel(from path: String) throws -> (VTPModel, VTPConfig) {
        let (cfg, _) = try header(at: path)
        let model = VTPModel(cfg.model, lossConfig: cfg.loss, seed: cfg.train.seed)
        try model.load(try SafetensorsFile(path: path).all())
        return (model, cfg)
    }
}
