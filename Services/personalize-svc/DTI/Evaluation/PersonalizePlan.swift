import Datasets
import Foundation

/// An experiment plan of `meshctl report personalize`, by name: `quick` (seconds, exercised by a
/// test; never the committed report) and `standard` (the committed report).
public struct PersonalizePlan: Codable, Sendable, Equatable {
    public var name: String
    /// Tokenizer preset and steps, generator preset and steps (the frozen models; trained once, reused).
    public var tokenizerPreset: String
    public var tokenizerSteps: Int
    public var generatorPreset: String
    public var generatorSteps: Int
    /// Training images of the generator (0 = the whole train split).
    public var generatorTrainLimit: Int
    /// Scored concepts, tuning concepts (never scored) and views per concept.
    public var concepts: Int
    public var tuningConcepts: Int
    public var imagesPerConcept: Int
    /// Learning: steps and batch of every run; TI's AdamW learning rate; seeds.
    public var steps: Int
    public var batchSize: Int
    public var tiLR: Float
    public var seeds: [UInt64]
    /// DTI's sweep on the tuning concepts (steps per tuning run).
    public var lrSweep: [Float]
    public var kappaSweep: [Float]
    public var tuningSteps: Int
    /// Held-out denoising batches for tuning and reporting.
    public var heldOutBatches: Int
    /// Positional probe every this many steps.
    public var logEvery: Int
    /// Norms (multiples of m*) of the probe-vs-norm curve.
    public var probeNormMultiples: [Double]
    /// Sampling of the evaluation and the slerp strip.
    public var evaluation: ConceptEvaluationSettings
    public var slerpPoints: Int

    public static let names = ["quick", "standard"]

    public static func named(_ name: String) -> PersonalizePlan? {
        var e = ConceptEvaluationSettings()
        switch name {
        case "quick":
            e.samplerSteps = 3; e.subjectSamples = 1; e.subjectTemplates = ["a photo of a {}"]; e.attributeTemplates = ["a {color} {}"]
            e.attributeColorCount = 2
            return PersonalizePlan(name: name, tokenizerPreset: "vtp-fmnistc32-xs", tokenizerSteps: 2, generatorPreset: "flowgen-xs",
                                   generatorSteps: 4, generatorTrainLimit: 16, concepts: 2, tuningConcepts: 1, imagesPerConcept: 3, steps: 6, batchSize: 2,
                                   tiLR: 0.02, seeds: [0, 1], lrSweep: [0.04, 0.08], kappaSweep: [1e-4], tuningSteps: 4, heldOutBatches: 2,
                                   logEvery: 3, probeNormMultiples: [0.5, 1, 4, 16], evaluation: e, slerpPoints: 3)
        case "standard":
            e.samplerSteps = 20; e.subjectSamples = 4; e.attributeSamples = 1
            return PersonalizePlan(name: name, tokenizerPreset: "vtp-fmnistc32-s", tokenizerSteps: 0, generatorPreset: "flowgen-s",
                                   generatorSteps: 0, generatorTrainLimit: 0, concepts: 8, tuningConcepts: 2, imagesPerConcept: 5, steps: 400, batchSize: 4,
                                   tiLR: 0.02, seeds: [0, 1], lrSweep: [0.02, 0.04, 0.08], kappaSweep: [1e-4, 1e-2], tuningSteps: 200,
                                   heldOutBatches: 8, logEvery: 25, probeNormMultiples: [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64], evaluation: e,
                                   slerpPoints: 7)
        default: return nil
        }
    }
}
