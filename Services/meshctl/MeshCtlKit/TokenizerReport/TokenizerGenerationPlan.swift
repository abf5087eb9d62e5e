import Foundation

/// What `meshctl report tokenizer` trains and measures (issue 11, METHODS.md §1 "the experiment
/// that proves it"): on each dataset, every tokenizer variant at every budget, each followed by the
/// same generator recipe, so generation quality (gFD, prompt accuracy) can be set against tokenizer
/// compute and against the tokenizer's own understanding (probes) and reconstruction (rFD).
public struct TokenizerGenerationPlan: Sendable, Equatable, Codable {
    /// One dataset of the experiment and its counts.
    public struct DataPart: Sendable, Equatable, Codable {
        /// Preset data part (`fmnistc32`: fmnist-color, whose captions carry colour and class, judged
        /// by gFD and prompt accuracy; `emoji32`: gemojione, gFD only).
        public var data: String
        /// Tokenizer training images (the first `trainLimit` of the train split; 0 = all).
        public var trainLimit: Int
        /// Tokenizer steps at budget x1; at least one epoch of the training images at the preset's batch.
        public var baseSteps: Int
        /// Generator training images (0 = all of the train split).
        public var generatorTrainLimit: Int
        /// TokenizerEvaluator counts: reconstruction / held-out text images (at most the validation
        /// split) and probe train / tune / scored.
        public var tokenizerEvalImages: Int
        public var probeSplit: [Int]

        /// Tokenizer steps at `budget`.
        public func tokenizerSteps(_ budget: Double) -> Int { max(1, Int((Double(baseSteps) * budget).rounded())) }
    }

    public var name: String
    public var parts: [DataPart]
    /// Preset size (`xs` tests, `s` report).
    public var size: String
    public var variants: [String]
    /// Multipliers of each part's `baseSteps` (x1, x3, x10).
    public var budgets: [Double]
    /// The generator recipe every tokenizer gets, and how both are scored.
    public var generator: ReportGeneratorRecipe
    /// Generator seeds at the largest budget (seed 0 alone at the others).
    public var largestBudgetSeeds: [UInt64]
    public var seed: UInt64

    /// Generator seeds trained on a tokenizer of `budget`.
    public func generatorSeeds(_ budget: Double) -> [UInt64] { budget == budgets.max() ? largestBudgetSeeds : [0] }

    /// `quick` (tiny models, seconds per run; the test) and `standard` (the committed report; estimated
    /// ~5 h on two cores: per dataset 4 variants x 3 budgets, 16 generators of 800 steps, gFD on 2,000
    /// images each, as the issue asks; it resumes from its cache, so it may span sessions).
    public static func named(_ name: String) -> TokenizerGenerationPlan? {
        switch name {
        case "quick":
            return TokenizerGenerationPlan(
                name: name,
                parts: [DataPart(data: "fmnistc32", trainLimit: 64, baseSteps: 8, generatorTrainLimit: 32, tokenizerEvalImages: 16,
                                 probeSplit: [16, 16, 16]),
                        DataPart(data: "emoji32", trainLimit: 64, baseSteps: 8, generatorTrainLimit: 32, tokenizerEvalImages: 16,
                                 probeSplit: [16, 16, 16])],
                size: "xs", variants: ["ae", "vtp"], budgets: [1, 2], generator: .quick, largestBudgetSeeds: [0, 1], seed: 0)
        case "standard":
            // One epoch of 10,000 fmnist-color images at the s preset's batch of 32 is 313 steps; emoji
            // has 1,794 images (1,615 train, 179 validation), so the same 313 steps are ~6 epochs and its
            // probes are scored on the whole validation split.
            return TokenizerGenerationPlan(
                name: name,
                parts: [DataPart(data: "fmnistc32", trainLimit: 10_000, baseSteps: 313, generatorTrainLimit: 10_000,
                                 tokenizerEvalImages: 2000, probeSplit: [2000, 1000, 2000]),
                        DataPart(data: "emoji32", trainLimit: 0, baseSteps: 313, generatorTrainLimit: 0,
                                 tokenizerEvalImages: 2000, probeSplit: [1100, 515, 179])],
                size: "s", variants: ["ae", "clip-ae", "ssl-ae", "vtp"], budgets: [1, 3, 10], generator: .standard,
                largestBudgetSeeds: [0, 1], seed: 0)
        default: return nil
        }
    }
    public static let names = ["quick", "standard"]
}
