import ComputeCore
import Datasets
import Distill
import Evaluation
import FlowGen
import Foundation
import GeneratorSvc
import MeshKit
import MeshProto

/// `distill.evaluate`: the student at each requested step count, and (when asked) its teacher at
/// `teacher_steps` Euler steps with the guidance the student distilled, on the SAME prompts and
/// seeds (`images` prompts balanced over fmnist-color's (class, colour) pairs, image i from noise
/// of seed + i). Each row is sampled and decoded exactly as `generator.generate` serves it
/// (`ServedModel`, `GeneratorService.sampleImages`), timed per chunk of images, and scored by the
/// shared `GenerationEvaluator` (gFD vs the real test split, class / colour accuracy with spreads).
extension DistillService {
    public static let evalImageRange: ClosedRange<Int32> = 2...10_000
    public static let defaultEvalImages: Int32 = 1000
    public static let defaultEvalSteps: [Int32] = [1, 2, 4]
    /// Images per timed chunk (the ms-per-image spread is over chunks).
    static let timingChunk = 50

    /// A validated evaluate request.
    public struct EvaluateParameters: Sendable {
        public var student: String
        public var steps: [Int]
        public var seed: UInt64
        public var images: Int
        public var includeTeacher: Bool
        public var teacherSteps: Int
        public var evaluator: String
    }

    /// INVALID_ARGUMENT naming the field and its limit for every bad field.
    public static func validate(_ req: Latentmesh_V1_DistillEvaluateRequest) throws -> EvaluateParameters {
        guard !req.studentName.isEmpty else { throw ServiceError.invalid("student_name", "must name a registered student") }
        try ModelRegistry.validate(name: req.studentName, field: "student_name")
        let steps = req.steps.isEmpty ? defaultEvalSteps : req.steps
        guard steps.count <= 4 else { throw ServiceError.outOfRange("steps.count", steps.count, 0...4) }
        for (i, k) in steps.enumerated() where !DistillConfig.sampleStepRange.contains(Int(k)) {
            throw ServiceError.outOfRange("steps[\(i)]", k, 1...4)
        }
        let images = req.images == 0 ? defaultEvalImages : req.images
        guard evalImageRange.contains(images) else { throw ServiceError.outOfRange("images", req.images, evalImageRange) }
        let teacherSteps = req.teacherSteps == 0 ? GeneratorService.defaultSteps : req.teacherSteps
        guard GeneratorService.stepRange.contains(teacherSteps) else {
            throw ServiceError.outOfRange("teacher_steps", req.teacherSteps, GeneratorService.stepRange)
        }
        let evaluator = req.evaluator.isEmpty ? "standard" : req.evaluator
        guard GeneratorService.evaluatorPresets.contains(evaluator) else {
            throw ServiceError.invalid("evaluator", "'\(req.evaluator)' is not an evaluator setting; use one of \(GeneratorService.evaluatorPresets.joined(separator: ", "))")
        }
        return EvaluateParameters(student: req.studentName, steps: steps.map(Int.init), seed: req.seed, images: Int(images),
                                  includeTeacher: req.includeTeacher, teacherSteps: Int(teacherSteps), evaluator: evaluator)
    }

    static func evaluate(_ req: Latentmesh_V1_DistillEvaluateRequest, context: RunContext,
                         models: GeneratorModels) async throws -> Latentmesh_V1_DistillEvaluateResult {
        let p = try validate(req)
        let t0 = Date()
        let (served, _) = try models.served(p.student, field: "student_name", context: context)
        guard case .student(let student) = served else {
            throw ServiceError.invalid("student_name", "'\(p.student)' is a generator, not a distilled student (evaluate it with generator.evaluate)")
        }
        guard let tokName = student.metadata["tokenizer"], let teacherName = student.metadata["teacher"] else {
            throw ServiceError(.internalError, field: "student_name", "student '\(p.student)' does not name its tokenizer and teacher")
        }
        let tok = try models.tokenizer(tokName, field: "student_name", context: context)
        let encoder = try models.promptEncoder()
        let evaluator = try await models.evaluator(p.evaluator, context: context)
        let prompts = GenerationPrompts.fmnistColor(count: p.images, seed: p.seed)
        let features = prompts.map { encoder.features(of: $0.text) }
        let seeds = prompts.indices.map { p.seed &+ UInt64($0) }

        // Rows: (label, model, served model, settings).
        var rows: [(label: String, model: String, served: ServedModel, settings: SamplingSettings, role: String)] = []
        if p.includeTeacher {
            let (teacher, _) = try models.served(teacherName, field: "student_name", context: context)
            let s = try teacher.settings(model: teacherName, steps: p.teacherSteps, guidance: student.config.guidance, sampler: .euler)
            rows.append(("teacher\(p.teacherSteps)", teacherName, teacher, s, "teacher"))
        }
        for k in p.steps {
            rows.append(("student\(k)", p.student, served, try served.settings(model: p.student, steps: k, guidance: 0, sampler: nil), "student"))
        }
        var resp = Latentmesh_V1_DistillEvaluateResult()
        resp.studentName = p.student; resp.teacherModel = teacherName; resp.method = student.config.method.rawValue
        let total = rows.count * p.images
        var done = 0
        for row in rows {
            var images: [ImageBuffer] = []
            var msPerImage: [Double] = []
            var start = 0
            while start < p.images {
                let end = min(p.images, start + timingChunk)
                let c0 = Date()
                images += try await GeneratorService.sampleImages(row.served, settings: row.settings, prompts: Array(features[start..<end]),
                                                                  seeds: Array(seeds[start..<end]), tokenizer: tok, context: context,
                                                                  reportProgress: false)
                msPerImage.append(Date().timeIntervalSince(c0) * 1000 / Double(end - start))
                done += end - start
                start = end
                await context.progress(step: done, total: total, metrics: ["ms_per_image": msPerImage.last!],
                                       itemsPerSecond: Double(done) / max(Date().timeIntervalSince(t0), 1e-9),
                                       message: "\(row.label): \(start)/\(p.images) images")
            }
            let attributes = prompts.map(\.attributes)
            let m = try await context.compute {
                try evaluator.evaluate(images, attributes: attributes, progress: { _, _ in context.heartbeat() })
            }
            var metrics = m.dictionary
            let sorted = msPerImage.sorted()
            metrics["ms_per_image"] = sorted[sorted.count / 2]
            metrics["ms_per_image_min"] = sorted.first!
            metrics["ms_per_image_max"] = sorted.last!
            metrics["images_per_s"] = 1000 / metrics["ms_per_image"]!
            var r = Latentmesh_V1_DistillEvalRow()
            r.label = row.label; r.modelName = row.model; r.role = row.role; r.steps = Int32(row.settings.steps)
            r.guidance = row.settings.guidance; r.sampler = row.settings.sampler; r.metrics = metrics
            resp.rows.append(r)
            for (k, v) in metrics { resp.metrics["\(row.label).\(k)"] = v }
            resp.images = Int32(m.images); resp.referenceImages = Int32(m.referenceImages); resp.referenceDataset = m.referenceDataset
        }
        resp.seconds = Date().timeIntervalSince(t0)
        return resp
    }
}
