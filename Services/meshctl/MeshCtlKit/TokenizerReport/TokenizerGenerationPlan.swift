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

    /// The SSL diagnosis (issue 11 item 2): one SSL variant at one budget of one dataset, retrained
    /// with one knob changed per trial (`tokenizer.train` config overrides), each scored by the same
    /// `TokenizerEvaluator` and set against the AE of the main grid at that budget. No generators.
    public struct SSLDiagnosis: Sendable, Equatable, Codable {
        /// One trial: a label and the overrides on the variant's preset (none = the preset itself,
        /// the main grid's tokenizer).
        public struct Trial: Sendable, Equatable, Codable {
            public var label: String
            public var overrides: [String]
        }
        /// A data part of the plan, a variant with SSL heads and a budget of the plan.
        public var data: String
        public var variant: String
        public var budget: Double
        public var trials: [Trial]
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
    /// nil = no SSL diagnosis.
    public var sslDiagnosis: SSLDiagnosis? = nil

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
                size: "xs", variants: ["ae", "vtp"], budgets: [1, 2], generator: .quick, largestBudgetSeeds: [0, 1], seed: 0,
                sslDiagnosis: SSLDiagnosis(data: "fmnistc32", variant: "vtp", budget: 1, trials: [
                    .init(label: "preset", overrides: []),
                    .init(label: "larger local crops", overrides: ["train.localCropMin=0.3", "train.localCropMax=0.6"])]))
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
                largestBudgetSeeds: [0, 1], seed: 0, sslDiagnosis: standardSSLDiagnosis)
        default: return nil
        }
    }
    public static let names = ["quick", "standard"]

    /// ssl-ae at x3 on fmnist-color with each knob the issue names: SSL batch (centring statistics),
    /// prototypes, learning rate, teacher temperature, centring momentum, local crops and crop scales
    /// (at 32 px DINOv2's local crops of 5-32 % of the image are a few pixels wide).
    static let standardSSLDiagnosis = SSLDiagnosis(data: "fmnistc32", variant: "ssl-ae", budget: 3, trials: [
        .init(label: "preset (ssl batch 8, K 256, lr 1e-3, teacher 0.04->0.07, centre momentum 0.9, 2 local crops)", overrides: []),
        .init(label: "ssl batch 32", overrides: ["train.sslBatch=32"]),
        .init(label: "64 prototypes", overrides: ["model.prototypes=64"]),
        .init(label: "lr 3e-4", overrides: ["train.lr=0.0003"]),
        .init(label: "teacher temperature 0.04 throughout", overrides: ["loss.teacherTempEnd=0.04"]),
        .init(label: "centre momentum 0.99", overrides: ["loss.centerMomentum=0.99"]),
        .init(label: "no local crops", overrides: ["train.localCrops=0"]),
        .init(label: "larger crops (global 0.6-1, local 0.25-0.6)",
              overrides: ["train.globalCropMin=0.6", "train.localCropMin=0.25", "train.localCropMax=0.6"]),
        .init(label: "ssl batch 32 + larger crops",
              overrides: ["train.sslBatch=32", "train.globalCropMin=0.6", "train.localCropMin=0.25", "train.localCropMax=0.6"]),
    ])
}
