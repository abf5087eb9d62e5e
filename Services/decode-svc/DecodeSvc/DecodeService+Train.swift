import ComputeCore
import Foundation
import MeshKit
import MeshProto
import ReFusion

extension DecodeService {
    public static let stepsRange = 1...200_000
    public static let checkpointEvery = 100
    /// Steps when a request leaves `steps` at 0.
    public static let defaultTrainSteps = 500

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
        let steps = r.steps == 0 ? defaultTrainSteps : Int(r.steps)
        guard stepsRange.contains(steps) else { throw ServiceError.outOfRange("steps", steps, stepsRange) }
        let name = r.modelName.isEmpty ? objective.rawValue : r.modelName
        try ModelRegistry.validate(name: name, field: "model_name")
        return TrainPlan(preset: preset, objective: objective, steps: steps, seed: r.seed == 0 ? 1 : r.seed,
                         modelName: name, initialModel: objective == .refusion ? "ar" : nil)
    }

    static func train(_ r: Latentmesh_V1_DecodeTrainRequest, context: RunContext) async throws -> Latentmesh_V1_DecodeTrainResult {
        let plan = try validate(r)
        var initial: TransformerLM?
        if let base = plan.initialModel {
            guard try context.models().exists(base) else {
                throw ServiceError.notFound("objective", "ReFusion training starts from the AR model '\(base)': train it first (decode.train objective ar)")
            }
            initial = try model(base, field: "objective", context: context)
        }
        let data: DecodeDataset
        do { data = try DecodeDataset.standard(seed: plan.seed, maxDigits: 2) } catch {
            throw ServiceError(.unavailable, "training data unavailable: \(error)")
        }
        var config = TransformerConfig.preset(plan.preset)!
        if let initial { config = initial.config }
        let setup = TrainingSetup(objective: plan.objective, steps: plan.steps, learningRate: initial == nil ? 2e-3 : 1e-3,
                                  seed: plan.seed)
        let session = DecodeTrainingSession(DecodeTrainer(config: config, setup: setup, data: data, initial: initial))
        let run = TrainingPlan(modelName: plan.modelName, kind: modelKind(plan.objective),
                               configJSON: try resolvedConfigJSON(plan, setup: setup, model: session.trainer.model.config),
                               seed: plan.seed, parents: plan.initialModel.map { [$0] } ?? [],
                               checkpointEvery: checkpointEvery)
        let out = try await TrainingRun.run(session, plan: run, context: context)
        var result = Latentmesh_V1_DecodeTrainResult()
        result.modelName = plan.modelName
        result.checkpoint = .init(out.artifact)
        result.finalMetrics = ["loss": session.meanLoss, "steps": Double(out.steps), "seconds": out.seconds,
                               "parameters": Double(session.trainer.model.parameterCount)]
        return result
    }

    /// The resolved training configuration recorded with the run and the registered model.
    static func resolvedConfigJSON(_ plan: TrainPlan, setup: TrainingSetup, model: TransformerConfig) throws -> String {
        let modelJSON = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(model))
        let obj: [String: Any] = [
            "preset": plan.preset, "objective": plan.objective.rawValue, "steps": plan.steps, "seed": "\(plan.seed)",
            "initial_model": plan.initialModel ?? NSNull(), "batch_size": setup.batchSize,
            "learning_rate": Double(setup.learningRate), "warmup_steps": setup.warmupSteps, "slot_sizes": setup.slotSizes,
            "boundary_labels": setup.boundaryLabels, "causal_lm_share": setup.causalLMShare,
            "text_share": setup.textShare, "checkpoint_every": checkpointEvery, "model": modelJSON,
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self)
    }
}
