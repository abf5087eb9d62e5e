import ComputeCore
import Foundation

/// How a concept's token embedding is learned (METHODS.md §4): `dti` keeps ‖e‖ = m* and optimises
/// the direction with Riemannian SGD under a vMF prior; `ti` is the unconstrained textual-inversion
/// baseline (AdamW).
public enum ConceptMethod: String, Codable, Sendable, CaseIterable {
    case dti, ti
}

/// A fully resolved concept-learning configuration, recorded with every run.
public struct DTIConfig: RecordedConfig, Sendable, Equatable {
    public var preset: String
    public var method: ConceptMethod = .dti
    public var steps: Int = 400
    /// Concept images (with one template each) per step.
    public var batchSize: Int = 4
    /// DTI: the fixed length of each tangent step on the unit sphere; TI: AdamW's learning rate.
    public var lr: Float = 0.04
    /// vMF prior concentration κ around the class word's direction (DTI only).
    public var kappa: Float = 1e-4
    /// AdamW weight decay (TI only).
    public var weightDecay: Float = 1e-2
    public var seed: UInt64 = 0
    /// Prompt templates; `{}` is replaced by the concept's `<name>`.
    public var templates: [String] = DTIConfig.defaultTemplates
    /// Progress (loss, token norm) every this many steps.
    public var logEvery: Int = 10

    public static let defaultTemplates = ["{}", "a {}", "a photo of a {}", "a picture of a {}", "an image of a {}", "a small {}"]

    public init(preset: String) { self.preset = preset }

    /// Checks ranges; throws `MethodError.invalidInput` naming the field and the limit.
    public func validate() throws {
        try MethodError.checkInput(steps >= 1 && steps <= 100_000, "steps", "must be in 1...100000, got \(steps)")
        try MethodError.checkInput(batchSize >= 1 && batchSize <= 256, "batch_size", "must be in 1...256, got \(batchSize)")
        try MethodError.checkInput(lr > 0 && lr <= 1, "lr", "must be in (0, 1], got \(lr)")
        try MethodError.checkInput(kappa >= 0 && kappa <= 100, "kappa", "must be in [0, 100], got \(kappa)")
        try MethodError.checkInput(weightDecay >= 0 && weightDecay < 1, "weight_decay", "must be in [0, 1), got \(weightDecay)")
        try MethodError.checkInput(!templates.isEmpty && templates.allSatisfy { $0.contains("{}") }, "templates", "need >= 1 template, each containing {}")
        try MethodError.checkInput(logEvery >= 1, "log_every", "must be >= 1, got \(logEvery)")
    }
}

/// Named concept-learning configurations: `dti-default` (the paper's 400 steps of 4, METHODS.md §4;
/// DTI lr 0.04, κ 1e-4; TI AdamW lr 0.02, wd 1e-2) and `dti-test` (tests: 12 steps of 2).
public enum DTIPresets {
    public static let names = ["dti-default", "dti-test"]
    public static let defaultName = "dti-default"

    /// Resolves `name` for `method`; `steps` overrides the budget.
    public static func resolve(_ name: String, method: ConceptMethod, steps: Int? = nil, seed: UInt64 = 0) throws -> DTIConfig {
        var c = DTIConfig(preset: name)
        c.method = method
        c.seed = seed
        c.lr = method == .dti ? 0.04 : 0.02
        switch name {
        case "dti-default": break
        case "dti-test": c.steps = 12; c.batchSize = 2; c.logEvery = 4
        default: throw MethodError.invalidInput(field: "preset", message: "unknown preset '\(name)': use one of \(names.joined(separator: ", "))")
        }
        if let steps { c.steps = steps }
        try c.validate()
        return c
    }
}

