import ComputeCore
import Datasets
import Distill
import FlowGen
import GeneratorSvc
import Foundation
import MeshKit
import MeshProto
import Models

/// distill-svc handlers (`distill.evaluate` in `DistillService+Evaluate.swift`): `distill.train` validates the request, loads the teacher from the
/// registry, synthesises x0 data from the guided teacher, and hands a `DistillTrainingSession`
/// to the shared training driver. The student is registered (kind `distill-student`) with its
/// teacher as parent.
public enum DistillService {
    /// Registry kind of a student.
    public static let modelKind = ModelRegistry.studentKind
    public static let mediaType = "application/vnd.latentmesh.distill+safetensors"
    public static let maxSteps: Int64 = 1_000_000
    public static let maxPrompts = 4096
    /// The service teachers are registered by.
    public static let teacherService = "generator"

    /// The two methods; `models` caches the students, teachers, tokenizers and evaluators evaluate loads.
    public static func methods(models: GeneratorModels) -> [ServiceMethod] {
        [
            .typed("distill.train", summary: "distil a registered generator into a 1-4-step sCM or MeanFlow student",
                   isLongRunning: true) { (req: Latentmesh_V1_DistillTrainRequest, ctx) in
                try await train(req, context: ctx)
            },
            .typed("distill.evaluate", summary: "a student at 1-4 steps (and its teacher) on the same prompts and seeds: gFD, attribute accuracy, ms per image",
                   isLongRunning: true) { (req: Latentmesh_V1_DistillEvaluateRequest, ctx) in
                try await evaluate(req, context: ctx, models: models)
            },
        ]
    }

    /// A validated train request (everything but the teacher lookup).
    public struct Plan: Sendable {
        public var config: DistillConfig
        public var teacher: String
        public var student: String
        public var prompts: [String]
    }

    /// Checks every field; INVALID_ARGUMENT naming it.
    public static func validate(_ req: Latentmesh_V1_DistillTrainRequest) throws -> Plan {
        guard let method = DistillMethod(rawValue: req.method) else {
            throw ServiceError.invalid("method", "must be one of \(DistillMethod.allCases.map(\.rawValue).joined(separator: ", ")), got '\(req.method)'")
        }
        guard !req.teacherModel.isEmpty else { throw ServiceError.invalid("teacher_model", "must name a registered generator model") }
        try ModelRegistry.validate(name: req.teacherModel, field: "teacher_model")
        let scale = req.timeInputScale == 0 ? 1 : req.timeInputScale
        guard DistillConfig.allowedTimeInputScales.contains(scale) else {
            throw ServiceError.invalid("time_input_scale", "must be 1 or 1000, got \(req.timeInputScale)")
        }
        guard (0...maxSteps).contains(req.steps) else { throw ServiceError.outOfRange("steps", req.steps, 0...maxSteps) }
        guard req.sampleSteps == 0 || DistillConfig.sampleStepRange.contains(Int(req.sampleSteps)) else {
            throw ServiceError.outOfRange("sample_steps", req.sampleSteps, 1...4)
        }
        guard req.guidance >= 0 && req.guidance <= 20 else { throw ServiceError.outOfRange("guidance", req.guidance, 0...20) }
        guard (0...Int32(maxPrompts)).contains(req.dataCount) else {
            throw ServiceError.outOfRange("data_count", req.dataCount, 0...Int32(maxPrompts))
        }
        guard req.prompts.count <= maxPrompts else { throw ServiceError.outOfRange("prompts.count", req.prompts.count, 0...maxPrompts) }
        if let i = req.prompts.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw ServiceError.invalid("prompts[\(i)]", "must not be empty")
        }
        let preset = req.preset.isEmpty ? DistillPresets.defaultName : req.preset
        var config: DistillConfig
        do { config = try DistillPresets.resolve(preset, method: method, timeInputScale: scale) } catch {
            throw ServiceError.invalid("preset", "unknown preset '\(req.preset)'; use one of \(DistillPresets.names.joined(separator: ", "))")
        }
        if req.steps > 0 { config.steps = Int(req.steps) }
        if req.sampleSteps > 0 { config.sampleSteps = Int(req.sampleSteps) }
        if req.guidance > 0 { config.guidance = req.guidance }
        if req.dataCount > 0 { config.dataCount = Int(req.dataCount) }
        config.seed = req.seed
        do { try config.validate() } catch let e as MethodError {
            if case let .invalidConfig(f, m) = e { throw ServiceError.invalid(f, m) }
            throw ServiceError.invalid("config", "\(e)")
        }
        let student = req.studentName.isEmpty ? "\(req.teacherModel)-\(method.rawValue)" : req.studentName
        try ModelRegistry.validate(name: student, field: "student_name")
        guard student != req.teacherModel else { throw ServiceError.invalid("student_name", "must differ from teacher_model") }
        return Plan(config: config, teacher: req.teacherModel, student: student,
                    prompts: req.prompts.isEmpty ? defaultPrompts() : req.prompts)
    }

    /// fmnist-color's canonical captions: every (colour, garment) pair, "a red dress".
    public static func defaultPrompts() -> [String] {
        ColorPalette.colors.flatMap { c in FashionMNISTColor.classSynonyms.map { "\(c.name) \($0[0])" } }.map { "a " + $0 }
    }

    static func train(_ req: Latentmesh_V1_DistillTrainRequest, context: RunContext) async throws -> Latentmesh_V1_DistillTrainResult {
        let plan = try validate(req)
        let registry = try context.models()
        let rec = try registry.record(plan.teacher, field: "teacher_model", service: teacherService,
                                      hint: "train one with generator.train")
        let teacher: FlowGenModel
        do { teacher = try FlowGenCheckpoint.load(from: try registry.file(rec, field: "teacher_model").path) } catch let e as ServiceError {
            throw e
        } catch {
            throw ServiceError.invalid("teacher_model", "'\(plan.teacher)' is not a FlowGen checkpoint: \(error)")
        }
        guard teacher.config.model.textDim == MiniLMEncoder.width else {
            throw ServiceError.invalid("teacher_model", "'\(plan.teacher)' expects \(teacher.config.model.textDim)-d text, not MiniLM's \(MiniLMEncoder.width)")
        }
        let session: DistillTrainingSession = try await context.compute {
            let encoder = try PromptEncoder.shared()
            let texts = plan.prompts.map { encoder.features(of: $0) }
            let data = try TeacherData.synthesize(teacher: teacher.model, prompts: texts, count: plan.config.dataCount,
                                                  steps: plan.config.teacherSteps, guidance: plan.config.guidance,
                                                  seed: plan.config.seed &+ 0x7EAC)
            let trainer = try DistillTrainer(config: plan.config, teacher: teacher.model)
            var meta = teacher.metadata.filter { $0.key == "tokenizer" }
            meta["teacher"] = plan.teacher
            return DistillTrainingSession(trainer: trainer, data: data, normalizer: teacher.normalizer, metadata: meta)
        }
        let training = TrainingPlan(modelName: plan.student, kind: modelKind, mediaType: mediaType,
                                    configJSON: try plan.config.json(), seed: plan.config.seed, parents: [plan.teacher],
                                    checkpointEvery: plan.config.checkpointEvery, resume: req.resume)
        var result = Latentmesh_V1_DistillTrainResult()
        result.studentName = plan.student
        result.teacherModel = plan.teacher
        result.method = plan.config.method.rawValue
        return try await TrainingRun.run(session, plan: training, context: context, result: result)
    }
}
