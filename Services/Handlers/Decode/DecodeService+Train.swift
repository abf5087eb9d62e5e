import ComputeCore
import Foundation
import MeshKit
import MeshProto
import ReFusion
import RunStore

extension DecodeService {
    public static let stepsRange = 1...200_000
    public static let checkpointEvery = 100

    /// One model computes at a time per process (the tape switch is process-wide and the
    /// cores are few); more throughput comes from more decode-svc processes.
    static let computeLock = NSLock()

    /// A validated `DecodeTrainRequest`.
    public struct TrainPlan: Equatable {
        public var preset: String
        public var objective: DecodeMode
        public var steps: Int
        public var seed: UInt64
        public var modelName: String
        /// ReFusion starts from this AR model.
        public var initialModel: String?
    }

    public static func validate(_ r: Latentmesh_V1_DecodeTrainRequest) throws -> TrainPlan {
        let preset = r.preset.isEmpty ? "small" : r.preset
        guard TransformerConfig.preset(preset) != nil else {
            throw ServiceError.invalid("preset", "'\(r.preset)' must be one of \(TransformerConfig.presetNames.joined(separator: ", "))")
        }
        guard let objective = DecodeMode(rawValue: r.objective) else {
            throw ServiceError.invalid("objective", "'\(r.objective)' must be one of ar, mdm, refusion")
        }
        let steps = r.steps == 0 ? 500 : Int(r.steps)
        guard stepsRange.contains(steps) else { throw ServiceError.outOfRange("steps", steps, stepsRange) }
        let name = r.modelName.isEmpty ? objective.rawValue : r.modelName
        try DecodeModelRegistry.validate(name: name)
        return TrainPlan(preset: preset, objective: objective, steps: steps, seed: r.seed == 0 ? 1 : r.seed,
                         modelName: name, initialModel: objective == .refusion ? "ar" : nil)
    }

    static func train(_ r: Latentmesh_V1_DecodeTrainRequest, context: RunContext, registry: DecodeModelRegistry) async throws
        -> Latentmesh_V1_DecodeTrainResult {
        let plan = try validate(r)
        var initial: TransformerLM?
        if let base = plan.initialModel {
            guard registry.exists(base) else {
                throw ServiceError.notFound("objective", "ReFusion training starts from the AR model '\(base)': train it first (decode.train objective ar)")
            }
            initial = try registry.load(base)
        }
        let data: DecodeDataset
        do { data = try DecodeDataset.standard(seed: plan.seed, maxDigits: 2) } catch {
            throw ServiceError(.unavailable, "training data unavailable: \(error)")
        }
        var config = TransformerConfig.preset(plan.preset)!
        if let initial { config = initial.config }
        let trainer = DecodeTrainer(config: config, setup: TrainingSetup(objective: plan.objective, steps: plan.steps,
                                                                         learningRate: initial == nil ? 2e-3 : 1e-3,
                                                                         seed: plan.seed),
                                    data: data, initial: initial)
        // A redelivered request resumes from its last checkpoint (weights and step; the optimiser restarts).
        let resumeFile = registry.directory(plan.modelName).appendingPathComponent("resume-\(context.requestID).safetensors")
        var start = 0
        if let f = try? SafetensorsFile(path: resumeFile.path), let s = f.metadata["step"].flatMap(Int.init), s < plan.steps {
            try trainer.model.load(try f.all())
            start = s
            context.logger.info("resuming \(plan.modelName) from step \(s)")
        }
        let meta = ["objective": plan.objective.rawValue, "preset": plan.preset, "steps": "\(plan.steps)",
                    "seed": "\(plan.seed)", "run_id": context.runID]
        var recent: [Double] = []
        let t0 = Date()
        var lastRecord: ArtifactRecord?
        for step in (start + 1)...plan.steps {
            try context.checkCancelled()
            let loss = computeLock.withLock { trainer.trainStep() }
            recent.append(loss)
            if recent.count > 20 { recent.removeFirst() }
            let mean = recent.reduce(0, +) / Double(recent.count)
            if step % 10 == 0 || step == plan.steps {
                let rate = Double(step - start) / max(Date().timeIntervalSince(t0), 1e-9)
                await context.progress(step: step, total: plan.steps, metrics: ["loss": mean], itemsPerSecond: rate)
            }
            if step % checkpointEvery == 0 || step == plan.steps {
                try FileManager.default.createDirectory(at: resumeFile.deletingLastPathComponent(), withIntermediateDirectories: true)
                try trainer.model.save(to: resumeFile.path, extra: meta.merging(["step": "\(step)"]) { a, _ in a })
                if let artifacts = context.artifacts {
                    lastRecord = try artifacts.put(fileAt: resumeFile, mediaType: "application/x-safetensors", runID: context.runID)
                }
            }
        }
        try registry.install(trainer.model, name: plan.modelName, metadata: meta)
        try? FileManager.default.removeItem(at: resumeFile)
        var result = Latentmesh_V1_DecodeTrainResult()
        result.modelName = plan.modelName
        if let rec = lastRecord {
            var ref = Latentmesh_V1_ArtifactRef()
            ref.sha256 = rec.sha256; ref.size = rec.size; ref.path = rec.path; ref.mediaType = rec.mediaType
            result.checkpoint = ref
        }
        result.finalMetrics = ["loss": recent.reduce(0, +) / Double(max(recent.count, 1)), "steps": Double(plan.steps),
                               "seconds": Date().timeIntervalSince(t0), "parameters": Double(trainer.model.parameterCount)]
        return result
    }
}
