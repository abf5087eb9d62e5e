import ComputeCore
import Foundation

/// A trained generator ready to sample: EMA weights, latent normaliser, configuration and the
/// checkpoint's metadata (e.g. `tokenizer`).
public struct FlowGenModel: @unchecked Sendable {
    public let model: FlowGenDiT
    public let normalizer: LatentNormalizer
    public let config: FlowGenConfig
    public let step: Int
    public let metadata: [String: String]

    public init(model: FlowGenDiT, normalizer: LatentNormalizer, config: FlowGenConfig, step: Int, metadata: [String: String]) {
        self.model = model; self.normalizer = normalizer; self.config = config; self.step = step; self.metadata = metadata
    }

    /// A sampler for `request` on this model.
    public func sampler(_ request: SampleRequest) throws -> FlowSampler {
        try FlowSampler(model: model, normalizer: normalizer, request: request)
    }
}

/// Checkpoints: one safetensors file with the online weights, `ema.<name>` weights,
/// AdamW moments (`optim.m.*`, `optim.v.*`) and the latent normaliser (`norm.mean`, `norm.std`);
/// metadata carries `format` = `latentmesh.flowgen.v1`, the resolved config JSON, the completed
/// step, and caller-supplied entries (the tokenizer it was trained on).
public enum FlowGenCheckpoint {
    public static let format = "latentmesh.flowgen.v1"

    /// Writes the trainer's full state.
    public static func save(_ trainer: FlowGenTrainer, normalizer: LatentNormalizer, metadata extra: [String: String] = [:],
                            to path: String) throws {
        var tensors = trainer.model.namedParameters()
        tensors += zip(trainer.names, trainer.ema.shadow).map { ("ema." + $0.0, $0.1) }
        tensors += trainer.optimizer.state(names: trainer.names)
        tensors += normalizer.tensors
        var meta = extra
        meta["format"] = format
        meta["config"] = try trainer.config.json()
        meta["step"] = String(trainer.stepIndex)
        meta["optim_step"] = String(trainer.optimizer.stepCount)
        try Safetensors.write(tensors, metadata: meta, to: path)
    }

    /// Config, completed step and metadata of a checkpoint.
    public static func header(at path: String) throws -> (config: FlowGenConfig, step: Int, metadata: [String: String]) {
        let f = try SafetensorsFile(path: path)
        guard f.metadata["format"] == format, let json = f.metadata["config"], let step = f.metadata["step"].flatMap(Int.init) else {
            throw MethodError.checkpoint("\(path) is not a \(format) checkpoint")
        }
        return (try FlowGenConfig.from(json: json), step, f.metadata)
    }

    static func normalizer(_ all: [String: Tensor]) throws -> LatentNormalizer {
        guard let m = all["norm.mean"], let s = all["norm.std"] else { throw MethodError.checkpoint("no latent normaliser") }
        return LatentNormalizer(mean: m.array, std: s.array)
    }

    /// Restores weights, EMA, optimiser and step into `trainer` (model configs must match);
    /// returns the stored normaliser.
    @discardableResult
    public static func restore(_ trainer: FlowGenTrainer, from path: String) throws -> LatentNormalizer {
        let (cfg, step, meta) = try header(at: path)
        guard cfg.model == trainer.config.model else {
            throw MethodError.checkpoint("checkpoint \(cfg.preset) does not match the trainer's model (\(trainer.config.preset))")
        }
        let all = try SafetensorsFile(path: path).all()
        try trainer.model.load(all)
        for (n, s) in zip(trainer.names, trainer.ema.shadow) {
            guard let e = all["ema." + n] else { throw MethodError.checkpoint("missing ema.\(n)") }
            s.assign(e)
        }
        try trainer.optimizer.load(all, names: trainer.names, stepCount: Int(meta["optim_step"] ?? "") ?? step)
        trainer.stepIndex = step
        return try normalizer(all)
    }

    /// Loads the EMA weights for sampling.
    public static func load(from path: String) throws -> FlowGenModel {
        let (cfg, step, meta) = try header(at: path)
        let all = try SafetensorsFile(path: path).all()
        let model = FlowGenDiT(cfg.model, seed: cfg.train.seed)
        var ema: [String: Tensor] = [:]
        for (n, _) in model.namedParameters() {
            guard let e = all["ema." + n] else { throw MethodError.checkpoint("missing ema.\(n)") }
            ema[n] = e
        }
        try model.load(ema)
        model.setFrozen(true)
        return FlowGenModel(model: model, normalizer: try normalizer(all), config: cfg, step: step, metadata: meta)
    }
}
