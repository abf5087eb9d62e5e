import ComputeCore
import FlowGen
import Foundation

/// A trained student ready to sample.
public struct DistilledModel: @unchecked Sendable {
    public let student: DistillStudent
    public let normalizer: LatentNormalizer
    public let config: DistillConfig
    public let step: Int
    public let metadata: [String: String]

    public init(student: DistillStudent, normalizer: LatentNormalizer, config: DistillConfig, step: Int, metadata: [String: String]) {
        self.student = student; self.normalizer = normalizer; self.config = config; self.step = step; self.metadata = metadata
    }

    /// A sampler with `steps` (default: the student's own `sampleSteps`).
    public func sampler(prompts: [TextFeatures], seeds: [UInt64], steps: Int? = nil) throws -> StudentSampler {
        try StudentSampler(student: student, normalizer: normalizer, prompts: prompts, seeds: seeds,
                           steps: steps ?? config.sampleSteps)
    }
}

/// Student checkpoints: one safetensors file with the student's weights (`net.*`, `interval.*`,
/// `logvar.*`), AdamW moments (`optim.m.*`, `optim.v.*`) and the teacher's latent normaliser;
/// metadata: `format` = `latentmesh.distill.v1`, `config` (DistillConfig JSON), `model`
/// (the student's FlowGenModelConfig JSON), `method`, `sample_steps`, `step`, `optim_step`, and
/// caller entries (`teacher`, `tokenizer`).
public enum DistillCheckpoint {
    public static let format = "latentmesh.distill.v1"

    /// Writes the trainer's full state.
    public static func save(_ trainer: DistillTrainer, normalizer: LatentNormalizer, metadata extra: [String: String] = [:],
                            to path: String) throws {
        var tensors = trainer.student.namedParameters()
        tensors += trainer.optimizer.state(names: trainer.names)
        tensors += normalizer.tensors
        var meta = extra
        meta["format"] = format
        meta["config"] = try trainer.config.json()
        meta["model"] = String(decoding: try JSONEncoder().encode(trainer.student.net.config), as: UTF8.self)
        meta["method"] = trainer.config.method.rawValue
        meta["sample_steps"] = String(trainer.config.sampleSteps)
        meta["step"] = String(trainer.stepIndex)
        meta["optim_step"] = String(trainer.optimizer.stepCount)
        try Safetensors.write(tensors, metadata: meta, to: path)
    }

    /// Config, student model config, completed step and metadata of a checkpoint.
    public static func header(at path: String) throws
        -> (config: DistillConfig, model: FlowGenModelConfig, step: Int, metadata: [String: String]) {
        let f = try SafetensorsFile(path: path)
        guard f.metadata["format"] == format, let json = f.metadata["config"], let model = f.metadata["model"],
              let step = f.metadata["step"].flatMap(Int.init) else {
            throw MethodError.checkpoint("\(path) is not a \(format) checkpoint")
        }
        let mc = try JSONDecoder().decode(FlowGenModelConfig.self, from: Data(model.utf8))
        return (try DistillConfig.from(json: json), mc, step, f.metadata)
    }

    /// Restores student weights, optimiser and step into `trainer` (configs must match).
    public static func restore(_ trainer: DistillTrainer, from path: String) throws {
        let (cfg, mc, step, meta) = try header(at: path)
        guard cfg.method == trainer.config.method, mc == trainer.student.net.config else {
            throw MethodError.checkpoint("checkpoint (\(cfg.method.rawValue), scale \(mc.timeInputScale)) does not match the trainer (\(trainer.config.method.rawValue), scale \(trainer.config.timeInputScale))")
        }
        let all = try SafetensorsFile(path: path).all()
        try trainer.student.load(all, strict: false)
        for n in trainer.names where all[n] == nil { throw MethodError.checkpoint("missing \(n)") }
        try trainer.optimizer.load(all, names: trainer.names, stepCount: Int(meta["optim_step"] ?? "") ?? step)
        trainer.stepIndex = step
    }

    /// Loads a student for sampling.
    public static func load(from path: String) throws -> DistilledModel {
        let (cfg, mc, step, meta) = try header(at: path)
        let all = try SafetensorsFile(path: path).all()
        let student = DistillStudent(method: cfg.method, model: mc, seed: cfg.seed)
        var weights: [String: Tensor] = [:]
        for (n, _) in student.namedParameters() {
            guard let w = all[n] else { throw MethodError.checkpoint("missing \(n)") }
            weights[n] = w
        }
        try student.load(weights)
        student.setFrozen(true)
        guard let m = all["norm.mean"], let s = all["norm.std"] else { throw MethodError.checkpoint("no latent normaliser") }
        return DistilledModel(student: student, normalizer: LatentNormalizer(mean: m.array, std: s.array), config: cfg,
                              step: step, metadata: meta)
    }
}
