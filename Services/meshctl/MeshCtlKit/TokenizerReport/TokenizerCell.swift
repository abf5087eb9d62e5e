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
    /// Commits of the report runs that measured the tokenizer and its generators (`+dirty`: with
    /// uncommitted changes); several when the report was assembled from its ledger across sessions.
    public var measuredAt: [String]?

    public init(tokenizer: String, tokenizerSeconds: Double, tokenizerMetrics: TokenizerMetrics,
                generations: [GeneratorReport.Measurement], history: TrainingHistory? = nil, measuredAt: [String]? = nil) {
        self.tokenizer = tokenizer; self.tokenizerSeconds = tokenizerSeconds; self.tokenizerMetrics = tokenizerMetrics
        self.generations = generations; self.history = history; self.measuredAt = measuredAt
    }

    /// One markdown paragraph on where `cells` come from: the commits their tokenizers were trained
    /// at (read from their runs) and the report runs that measured them, kept in `ledger` (the
    /// report's committed ledger folder, relative to the report).
    public static func provenance(_ cells: [TokenizerCell], ledger: String) -> String {
        func list(_ xs: Set<String>) -> String { xs.sorted().map { "`\($0)`" }.joined(separator: ", ") }
        let trained = Set(cells.compactMap { $0.history?.commit }), measured = Set(cells.flatMap { $0.measuredAt ?? [] })
        var s = "Tokenizers trained at commit\(trained.count == 1 ? "" : "s") \(list(trained)) (read from their runs)"
        if !measured.isEmpty {
            s += "; measured by report runs at commit\(measured.count == 1 ? "" : "s") \(list(measured))"
        }
        return s + ". Finished measurements are kept in the ledger `\(ledger)/` committed with this report: a rerun of the command, " +
            "on any machine, reuses every entry whose recipe (configuration and evaluation settings) is unchanged and measures the rest."
    }

    /// "wall time N min" of the run that wrote the report, and how many of `cells` it measured
    /// itself (the rest came from the ledger, measured by earlier runs).
    public static func wallTime(_ seconds: Double, cells: [TokenizerCell], provenance: [String: String]) -> String {
        let current = ReportLedger.commits([provenance])
        let measured = cells.filter { $0.measuredAt.map { !Set($0).isDisjoint(with: current) } ?? true }.count
        let minutes = String(format: "%.1f", seconds / 60)
        guard measured < cells.count else { return "wall time \(minutes) min" }
        return "wall time of this run \(minutes) min; it measured \(measured) of the \(cells.count) tokenizers (with their generators) " +
            "and read the others from the ledger, measured by earlier runs"
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
