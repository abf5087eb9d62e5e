import Evaluation
import Foundation

/// One figure over training seeds: the per-seed values, their mean and spread (sample standard
/// deviation; 0 with one seed) and, for accuracies, the test-set standard error of the mean
/// accuracy. `standardError` combines both (σ²/n over seeds + test-set SE²): the band verdicts use.
public struct SeedStatistic: Sendable, Equatable {
    public var values: [Double]
    public var mean: Double
    public var spread: Double
    /// Binomial standard error of `mean` on `examples` test problems (accuracies only).
    public var testSE: Double
    public var standardError: Double

    public init(_ values: [Double], binomialOver examples: Int? = nil) {
        precondition(!values.isEmpty, "a seed statistic needs at least one seed")
        self.values = values
        let n = Double(values.count)
        mean = values.reduce(0, +) / n
        let m = mean
        spread = values.count > 1 ? (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / (n - 1)).squareRoot() : 0
        if let examples, examples > 0 { testSE = (max(0, mean * (1 - mean)) / Double(examples)).squareRoot() } else { testSE = 0 }
        standardError = (spread * spread / n + testSE * testSE).squareRoot()
    }

    /// The statistic as an `Estimate` (std = `standardError`, interval ±2 SE) for `Verdict`.
    public var estimate: Estimate {
        Estimate(value: mean, low: mean - 2 * standardError, high: mean + 2 * standardError, std: standardError,
                 replicates: values.count)
    }

    /// `mean ± spread` with `digits` decimals, times `scale` (100 for percentages).
    public func text(_ digits: Int = 1, scale: Double = 1) -> String {
        String(format: "%.\(digits)f ± %.\(digits)f", mean * scale, spread * scale)
    }

    /// Judges `a − b` (wanted positive unless `wantPositive` is false) against both standard errors.
    public static func verdict(_ a: SeedStatistic, minus b: SeedStatistic, wantPositive: Bool = true) -> Verdict {
        Verdict.judge(a.estimate, minus: b.estimate, wantPositive: wantPositive)
    }
}
