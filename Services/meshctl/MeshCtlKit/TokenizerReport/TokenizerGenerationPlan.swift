import Foundation

/// What `meshctl report tokenizer-generation` trains and measures (issue 11, METHODS.md §1 "the
/// experiment that proves it"): every tokenizer variant at every budget, each followed by the same
/// generator recipe, so generation quality (gFD, prompt accuracy) can be set against tokenizer
/// compute and against the tokenizer's own understanding (probes) and reconstruction (rFD).
public struct TokenizerGenerationPlan: Sendable, Equatable, Codable {
    public var name: String
    /// Preset data part (`fmnistc32`: fmnist-color, whose captions carry colour and class).
    public var data: String
    /// Preset size (`xs` tests, `s` report).
    public var size: String
    public var variants: [String]
    /// Tokenizer training images (the first `trainLimit` of the train split).
    public var trainLimit: Int
    /// Tokenizer steps at budget x1; at least one epoch of `trainLimit` images at the preset's batch.
    public var baseSteps: Int
    /// Multipliers of `baseSteps` (x1, x3, x10).
    public var budgets: [Double]
    public var generatorPreset: String
    public var generatorSteps: Int
    public var generatorTrainLimit: Int
    /// Generator seeds at the largest budget (seed 0 alone at the others).
    public var largestBudgetSeeds: [UInt64]
    /// `generator.evaluate` images, Euler steps, guidance and evaluator setting.
    public var evalImages: Int
    public var evalSteps: Int
    public var guidance: Float
    public var evaluator: String
    /// TokenizerEvaluator counts: reconstruction images, probe train / tune / scored, held-out text images.
    public var tokenizerEvalImages: Int
    public var probeSplit: [Int]
    public var seed: UInt64

    /// Tokenizer steps at `budget`.
    public func tokenizerSteps(_ budget: Double) -> Int { max(1, Int((Double(baseSteps) * budget).rounded())) }
    /// Generator seeds trained on a tokenizer of `budget`.
    public func generatorSeeds(_ budget: Double) -> [UInt64] { budget == budgets.max() ? largestBudgetSeeds : [0] }

    /// `quick` (tiny models, seconds per run; the test) and `standard` (the committed report; estimated
    /// ~4 h on two cores: 4 variants x 3 budgets on 10,000 images, 16 generators of 800 steps, gFD on
    /// 2,000 images each, as the issue asks; it resumes from its cache, so it may span sessions).
    public static func named(_ name: String) -> TokenizerGenerationPlan? {
        switch name {
        case "quick":
            return TokenizerGenerationPlan(name: name, data: "fmnistc32", size: "xs", variants: ["ae", "vtp"], trainLimit: 64,
                                           baseSteps: 8, budgets: [1, 2], generatorPreset: "flowgen-xs", generatorSteps: 6,
                                           generatorTrainLimit: 32, largestBudgetSeeds: [0, 1], evalImages: 8, evalSteps: 2,
                                           guidance: 3, evaluator: "quick", tokenizerEvalImages: 16, probeSplit: [16, 16, 16], seed: 0)
        case "standard":
            // One epoch of 10,000 images at the s preset's batch of 32 is 313 steps.
            return TokenizerGenerationPlan(name: name, data: "fmnistc32", size: "s", variants: ["ae", "clip-ae", "ssl-ae", "vtp"],
                                           trainLimit: 10_000, baseSteps: 313, budgets: [1, 3, 10], generatorPreset: "flowgen-s",
                                           generatorSteps: 800, generatorTrainLimit: 10_000, largestBudgetSeeds: [0, 1],
                                           evalImages: 2000, evalSteps: 28, guidance: 3, evaluator: "standard",
                                           tokenizerEvalImages: 2000, probeSplit: [2000, 1000, 2000], seed: 0)
        default: return nil
        }
    }
    public static let names = ["quick", "standard"]
}
