import ComputeCore
import Distill
import FlowGen
import MeshKit
import RunStore

/// What `generator.generate` drives: sampling of a batch of latents as a step iterator (progress,
/// previews, cancellation and requests joining happen between steps).
public protocol LatentSampler: AnyObject {
    /// Completed steps of the least advanced row.
    var step: Int { get }
    var totalSteps: Int { get }
    var isFinished: Bool { get }
    /// Noise level of the least advanced row before its next step (0 once finished).
    var t: Float { get }
    /// t before each step (totalSteps + 1 values, the last 0).
    var grid: [Float] { get }
    /// Completed steps of each row (rows join at step 0).
    var rows: SamplerRows { get }
    /// Advances every unfinished row by one step; false once finished.
    @discardableResult func next() -> Bool
    /// Adds one image per (prompt, seed) at step 0; the rows already here go on unchanged.
    func append(prompts: [TextFeatures], seeds: [UInt64]) throws
    /// The current x0 estimate in the tokenizer's scale. [B, T, C]
    var previewLatents: Tensor { get }
    /// Final (or current) latents in the tokenizer's scale. [B, T, C]
    var latents: Tensor { get }
    /// Keeps only the samples at `rows`; the others continue exactly as they would have.
    func retain(_ rows: [Int])
}

extension FlowSampler: LatentSampler {}
extension StudentSampler: LatentSampler {}

/// The sampling settings a served model resolved from a request (what the response and the PNG
/// tags report).
public struct SamplingSettings: Sendable, Equatable {
    public var steps: Int
    /// The guidance scale the images carry: the request's for a FlowGen model, the scale distilled
    /// into a student (which takes no CFG pass; the request's guidance is ignored).
    public var guidance: Float
    /// "euler" | "heun" for FlowGen; the student's rule ("scm" | "meanflow") for a student.
    public var sampler: String
    /// Whether `guidance` was distilled in rather than applied by a CFG pass.
    public var distilledGuidance: Bool
}

/// A registry model `generator.generate` serves: the one place that dispatches on the model kind.
/// - `.flowGen`: a FlowGen generator (service `generator`): Euler/Heun with classifier-free guidance,
///   1...1000 steps (default 28).
/// - `.student`: a distilled student (service `distill`, kind `distill-student`): its own 1...4-step
///   rule with guidance distilled in (default: the steps it was trained to serve).
public enum ServedModel {
    case flowGen(FlowGenModel)
    case student(DistilledModel)

    /// Registry kind of students (`DistillService.modelKind`).
    public static let studentKind = ModelRegistry.studentKind
    /// Services whose models generate serves.
    public static let services = ["generator", "distill"]

    /// Checkpoint metadata (`tokenizer`, and for students `teacher`).
    public var metadata: [String: String] {
        switch self {
        case .flowGen(let m): return m.metadata
        case .student(let m): return m.metadata
        }
    }

    /// Steps, guidance and sampler for a request of `model` (nil steps = the model's default; nil
    /// sampler = not given). INVALID_ARGUMENT naming the field and the limit.
    public func settings(model: String, steps: Int?, guidance: Float, sampler: SamplerKind?) throws -> SamplingSettings {
        switch self {
        case .flowGen:
            return SamplingSettings(steps: steps ?? Int(GeneratorService.defaultSteps), guidance: guidance,
                                    sampler: (sampler ?? .euler).rawValue, distilledGuidance: false)
        case .student(let m):
            let steps = steps ?? m.config.sampleSteps
            let range = DistillConfig.sampleStepRange
            guard range.contains(steps) else {
                throw ServiceError(.invalidArgument, field: "steps",
                                   "steps = \(steps) is out of range for a distilled student: must be in \(range.lowerBound)...\(range.upperBound)")
            }
            if let s = sampler {
                throw ServiceError.invalid("sampler", "'\(model)' is a \(m.config.method.rawValue) student and samples with its own 1...4-step rule, not \(s.rawValue); leave sampler empty")
            }
            return SamplingSettings(steps: steps, guidance: m.config.guidance, sampler: m.config.method.rawValue,
                                    distilledGuidance: true)
        }
    }

    /// A sampler of one image per (prompt, seed) with `settings`.
    public func sampler(prompts: [TextFeatures], seeds: [UInt64], settings: SamplingSettings) throws -> any LatentSampler {
        switch self {
        case .flowGen(let m):
            return try m.sampler(SampleRequest(prompts: prompts, seeds: seeds, steps: settings.steps, guidance: settings.guidance,
                                               sampler: SamplerKind(rawValue: settings.sampler) ?? .euler))
        case .student(let m):
            return try m.sampler(prompts: prompts, seeds: seeds, steps: settings.steps)
        }
    }

    /// Loads the checkpoint of `record` (a generator or a student; anything else is INVALID_ARGUMENT naming `field`).
    public static func load(_ record: ModelRecord, field: String, models: GeneratorModels, registry: ModelRegistry) throws -> ServedModel {
        switch (record.service, record.kind) {
        case ("distill", studentKind):
            return .student(try models.students.model(record.name, field: field, service: "distill", registry: registry))
        case ("generator", GeneratorService.modelKind):
            return .flowGen(try models.generators.model(record.name, field: field, service: "generator", registry: registry))
        default:
            throw ServiceError.invalid(field, "'\(record.name)' is a \(record.kind) model of \(record.service): generate serves generator models and distilled students (\(studentKind))")
        }
    }
}
