import Foundation
import RecTok

/// What `meshctl report rectok` trains and measures (issue 11, METHODS.md §2 "The experiment"):
/// RecTok tokenizers at every latent width d, with flow semantic distillation (FSD) on and off,
/// each followed by the same generator recipe. Claim under test: generation improves with d only
/// when FSD is on.
public struct RecTokReportPlan: Sendable, Equatable, Codable {
    public var name: String
    /// Preset `rectok-<data>-<size>`.
    public var preset: String
    public var latentWidths: [Int]
    /// Semantic teacher of the FSD-on tokenizers (`efficientnet-lite0`; `patch-projection` in the quick plan).
    public var teacher: RecTokTeacherKind
    /// Tokenizer training images and total steps (joint + decoder fine-tune, split in the preset's ratio).
    public var trainLimit: Int
    public var tokenizerSteps: Int
    /// The generator recipe every tokenizer gets, and how both are scored.
    public var generator: ReportGeneratorRecipe
    public var generatorTrainLimit: Int
    /// Generator seeds trained on every tokenizer.
    public var generatorSeeds: [UInt64]
    /// TokenizerEvaluator counts: reconstruction images, probe train / tune / scored.
    public var tokenizerEvalImages: Int
    public var probeSplit: [Int]
    public var seed: UInt64

    /// `quick` (tiny models, the test) and `standard` (the committed report; estimated ~2.5 h on two
    /// cores: 6 tokenizers of 939 steps on 10,000 images, 12 flowgen-s generators of 800 steps, gFD
    /// on 2,000 images each; it resumes from its cache, so it may span sessions).
    public static func named(_ name: String) -> RecTokReportPlan? {
        switch name {
        case "quick":
            return RecTokReportPlan(name: name, preset: "rectok-fmnistc32-xs", latentWidths: [4, 8], teacher: .patchProjection,
                                    trainLimit: 64, tokenizerSteps: 8, generator: .quick, generatorTrainLimit: 32, generatorSeeds: [0],
                                    tokenizerEvalImages: 16, probeSplit: [16, 16, 16], seed: 0)
        case "standard":
            // 939 steps = x3 of one epoch of 10,000 images at the s preset's batch of 32 (the tokenizer report's x3).
            return RecTokReportPlan(name: name, preset: "rectok-fmnistc32-s", latentWidths: [8, 16, 32], teacher: .efficientNetLite0,
                                    trainLimit: 10_000, tokenizerSteps: 939, generator: .standard, generatorTrainLimit: 10_000,
                                    generatorSeeds: [0, 1], tokenizerEvalImages: 2000, probeSplit: [2000, 1000, 2000], seed: 0)
        default: return nil
        }
    }
    public static let names = ["quick", "standard"]
}
