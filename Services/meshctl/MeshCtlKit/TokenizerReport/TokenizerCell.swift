import Evaluation
import Foundation
import VTP

/// What one tokenizer of a tokenizer report measured (shared by `meshctl report tokenizer` and
/// `meshctl report rectok`, whose rows add only their own coordinates): the tokenizer, its
/// `TokenizerEvaluator` metrics and training history, and the generators trained on its latents.
public struct TokenizerCell: Codable, Sendable {
    public var tokenizer: String
    /// Seconds of the tokenizer's training run (its recorded duration).
    public var tokenizerSeconds: Double
    public var tokenizerMetrics: TokenizerMetrics
    /// One generator per seed.
    public var generations: [GeneratorReport.Measurement]
    /// The tokenizer run's recorded metrics and commit.
    public var history: TrainingHistory?

    public init(tokenizer: String, tokenizerSeconds: Double, tokenizerMetrics: TokenizerMetrics,
                generations: [GeneratorReport.Measurement], history: TrainingHistory? = nil) {
        self.tokenizer = tokenizer; self.tokenizerSeconds = tokenizerSeconds; self.tokenizerMetrics = tokenizerMetrics
        self.generations = generations; self.history = history
    }

    /// gFD over the generator seeds: their mean, std = √(mean bootstrap variance + seed variance).
    public var gFD: Estimate { Self.pool(generations.map(\.gFD)) }
    /// Class accuracy pooled the same way (NaN on a dataset without an attribute judge).
    public var classAccuracy: Estimate { Self.pool(generations.map(\.classAccuracy), bootstrapStd: { ($0.high - $0.low) / 3.92 }) }

    static func pool(_ es: [Estimate], bootstrapStd: (Estimate) -> Double = { $0.std }) -> Estimate {
        guard !es.isEmpty else { return Estimate(value: .nan, low: .nan, high: .nan, std: .nan, replicates: 0) }
        let m = es.map(\.value).reduce(0, +) / Double(es.count)
        let within = es.map { bootstrapStd($0) * bootstrapStd($0) }.reduce(0, +) / Double(es.count)
        let between = es.count > 1 ? es.map { ($0.value - m) * ($0.value - m) }.reduce(0, +) / Double(es.count - 1) : 0
        let s = (within + between).squareRoot()
        return Estimate(value: m, low: m - 1.96 * s, high: m + 1.96 * s, std: s, replicates: es.count)
    }
}
