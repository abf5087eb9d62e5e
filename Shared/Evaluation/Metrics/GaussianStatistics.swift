import CBLAS
import Foundation

/// Mean and covariance of a feature set (float64), the sufficient statistics of the Fréchet
/// distance. mean [D], covariance [D, D] row-major (unbiased, divides by N - 1).
public struct GaussianStatistics: Sendable {
    public let dimension: Int
    public let count: Int
    public let mean: [Double]
    public let covariance: [Double]

    /// Statistics given directly (e.g. read back from a cache). mean [D], covariance [D, D].
    public init(count: Int, mean: [Double], covariance: [Double]) throws {
        guard !mean.isEmpty, covariance.count == mean.count * mean.count else {
            throw EvaluationError.invalidArgument(field: "covariance", message: "must hold \(mean.count)x\(mean.count) values, got \(covariance.count)")
        }
        self.dimension = mean.count; self.count = count; self.mean = mean; self.covariance = covariance
    }

    /// Statistics of `features` (N rows of D). Needs N >= 2.
    public init(features: [[Float]]) throws {
        guard features.count >= 2 else {
            throw EvaluationError.invalidArgument(field: "features", message: "need at least 2 samples, got \(features.count)")
        }
        let d = features[0].count
        guard d > 0, features.allSatisfy({ $0.count == d }) else {
            throw EvaluationError.invalidArgument(field: "features", message: "all rows must have the same positive length \(d)")
        }
        let n = features.count
        var mean = [Double](repeating: 0, count: d)
        for f in features { for j in 0..<d { mean[j] += Double(f[j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        var centered = [Double](repeating: 0, count: n * d)
        for (i, f) in features.enumerated() { for j in 0..<d { centered[i * d + j] = Double(f[j]) - mean[j] } }
        var cov = [Double](repeating: 0, count: d * d)
        // cov = X^T X / (n - 1) (upper triangle by dsyrk, then mirrored)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(n), 1 / Double(n - 1),
                    centered, Int32(d), 0, &cov, Int32(d))
        for i in 0..<d { for j in 0..<i { cov[i * d + j] = cov[j * d + i] } }
        self.dimension = d
        self.count = n
        self.mean = mean
        self.covariance = cov
    }
}
