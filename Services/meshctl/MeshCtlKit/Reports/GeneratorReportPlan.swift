import Foundation

/// What `meshctl report generator` trains and measures: a named plan (`standard` for the
/// committed report, `quick` for the smoke test).
public struct GeneratorReportPlan: Sendable, Equatable, Codable {
    public var name: String
    public var tokenizerPreset: String
    public var tokenizerSteps: Int
    public var generatorPreset: String
    public var generatorSteps: Int
    /// Training images (0 = all of fmnist-color's train part).
    public var trainLimit: Int
    /// Images of the headline evaluation (guidance 3, `headlineSteps` Euler steps).
    public var headlineImages: Int
    public var headlineSteps: Int
    public var headlineGuidance: Float
    /// Images per point of the sweeps and of the training curve (the same count within a figure,
    /// so its gFDs compare; gFD is biased upward at smaller counts, so they do not compare with
    /// the headline's).
    public var sweepImages: Int
    public var guidanceSweep: [Float]
    public var stepsSweep: [Int]
    public var samplers: [String]
    /// Training steps between the checkpoints the training curve measures (a multiple of the
    /// preset's checkpoint interval; 0 = every checkpoint).
    public var curveEvery: Int = 0
    /// `generator.evaluate`'s evaluator setting.
    public var evaluator: String
    public var seed: UInt64

    /// `quick` (tiny models, a few images; tests) and `standard` (the committed report; estimated
    /// 1.5-2 h on two cores, the report records its measured wall time). Standard's budgets come
    /// from session 5-6's anchors: the generator's class accuracy is bounded by how recognisable the
    /// tokenizer's reconstructions are (0.69 after 600 tokenizer steps, 0.86 after 2,400), and an
    /// 800-step generator reached 0.41-0.48 of it where 2,400 steps reach 98 %. Session 10's report
    /// (2,400 steps on 20,000 images) still gained class accuracy at its last checkpoints (0.818 at
    /// 1,600, 0.836 at 2,400), so the generator now trains 8,000 steps on the whole train part
    /// (0.22 s per step in a release build on 2 cores: ~30 min); the curve is measured every 800 steps.
    public static func named(_ name: String) -> GeneratorReportPlan? {
        switch name {
        case "quick":
            return GeneratorReportPlan(name: name, tokenizerPreset: "vtp-fmnistc32-xs", tokenizerSteps: 2,
                                       generatorPreset: "flowgen-xs", generatorSteps: 20, trainLimit: 32,
                                       headlineImages: 8, headlineSteps: 4, headlineGuidance: 3, sweepImages: 4,
                                       guidanceSweep: [0, 3], stepsSweep: [2, 4], samplers: ["euler", "heun"],
                                       evaluator: "quick", seed: 0)
        case "standard":
            return GeneratorReportPlan(name: name, tokenizerPreset: "vtp-fmnistc32-s", tokenizerSteps: 7200,
                                       generatorPreset: "flowgen-s", generatorSteps: 8000, trainLimit: 0,
                                       headlineImages: 2000, headlineSteps: 28, headlineGuidance: 3, sweepImages: 500,
                                       guidanceSweep: [0, 1, 2, 3, 5], stepsSweep: [4, 8, 16, 28, 50], samplers: ["euler", "heun"],
                                       curveEvery: 800, evaluator: "standard", seed: 0)
        default: return nil
        }
    }
    public static let names = ["quick", "standard"]
}
