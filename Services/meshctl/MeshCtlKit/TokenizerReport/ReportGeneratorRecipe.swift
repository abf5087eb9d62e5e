import Foundation

/// The generator recipe every tokenizer of a tokenizer report gets, and how it is scored
/// (`generator.train` then `generator.evaluate`); training images are the data's business.
public struct ReportGeneratorRecipe: Codable, Sendable, Equatable {
    public var preset: String
    public var steps: Int
    /// `generator.evaluate` images, Euler steps, guidance, and evaluator setting (`quick` / `standard`;
    /// the same setting scores the tokenizers).
    public var evalImages: Int
    public var evalSteps: Int
    public var guidance: Float
    public var evaluator: String

    /// The tests' recipe (flowgen-xs, seconds) and the reports' (flowgen-s, 800 steps, gFD on 2,000 images).
    public static let quick = ReportGeneratorRecipe(preset: "flowgen-xs", steps: 6, evalImages: 8, evalSteps: 2, guidance: 3, evaluator: "quick")
    public static let standard = ReportGeneratorRecipe(preset: "flowgen-s", steps: 800, evalImages: 2000, evalSteps: 28, guidance: 3,
                                                       evaluator: "standard")
}
