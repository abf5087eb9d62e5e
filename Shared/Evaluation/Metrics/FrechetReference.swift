import CBLAS
import ComputeCore
import Foundation

/// One side of the Fréchet distance prepared once: reference statistics (e.g. a real test split)
/// with the square root of their covariance, so each FD against it costs one covariance
/// product and one eigenvalue solve (used by bootstraps). FD = |mu_r - mu|^2 + tr(S_r) + tr(S)
/// - 2 tr((S_r^1/2 S S_r^1/2)^1/2).
public struct FrechetReference: Sendable {
    public let statistics: GaussianStatistics
    let sqrtCovariance: [Double]
    let trace: Double

    public init(_ statistics: GaussianStatistics) throws {
        self.statistics = statistics
        sqrtCovariance = try FrechetDistance.symmetricSqrt(statistics.covariance, n: statistics.dimension)
        let d = statistics.dimension
        trace = (0..<d).reduce(0.0) { $0 + statistics.covariance[$1 * d + $1] }
    }

    /// FD between the reference and `other` (same dimension).
    public func distance(to other: GaussianStatistics) throws -> Double {
        let a = statistics, b = other
        guard a.dimension == b.dimension else {
            throw EvaluationError.invalidArgument(field: "dimension", message: "\(a.dimension) != \(b.dimension)")
        }
        let d = a.dimension
        var meanTerm = 0.0
        for j in 0..<d { let diff = a.mean[j] - b.mean[j]; meanTerm += diff * diff }
        var trB = 0.0
        for j in 0..<d { trB += b.covariance[j * d + j] }
        // M = sqrtA * S2 * sqrtA (symmetric PSD)
        var tmp = [Double](repeating: 0, count: d * d)
        var m = [Double](repeating: 0, count: d * d)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), 1,
                    sqrtCovariance, Int32(d), b.covariance, Int32(d), 0, &tmp, Int32(d))
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), 1,
                    tmp, Int32(d), sqrtCovariance, Int32(d), 0, &m, Int32(d))
        for i in 0..<d { for j in 0..<i { let s = 0.5 * (m[i * d + j] + m[j * d + i]); m[i * d + j] = s; m[j * d + i] = s } }
        let eig = try FrechetDistance.eigenvalues(m, n: d)
        let trSqrt = eig.reduce(0.0) { $0 + max($1, 0).squareRoot() }
        return max(0, meanTerm + trace + trB - 2 * trSqrt)
    }

    /// Writes the statistics as safetensors (float64 values split into float32 high + low parts,
    /// so nothing is lost), with `metadata`.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        func split(_ x: [Double], _ shape: [Int]) -> [(Tensor, Tensor)] {
            let hi = x.map { Float($0) }
            let lo = zip(x, hi).map { Float($0 - Double($1)) }
            return [(Tensor(hi, shape: shape), Tensor(lo, shape: shape))]
        }
        let d = statistics.dimension
        let m = split(statistics.mean, [d])[0], c = split(statistics.covariance, [d, d])[0]
        var meta = metadata
        meta["count"] = String(statistics.count)
        try Safetensors.write([("mean_hi", m.0), ("mean_lo", m.1), ("cov_hi", c.0), ("cov_lo", c.1)], metadata: meta, to: path)
    }

    /// Reads statistics written by `save`.
    public init(path: String) throws {
        let f = try SafetensorsFile(path: path)
        func join(_ name: String) throws -> [Double] {
            let hi = try f.tensor(name + "_hi").array, lo = try f.tensor(name + "_lo").array
            return zip(hi, lo).map { Double($0) + Double($1) }
        }
        guard let count = f.metadata["count"].flatMap(Int.init) else {
            throw EvaluationError.invalidArgument(field: "path", message: "\(path) has no count in its metadata")
        }
        try self.init(GaussianStatistics(count: count, mean: try join("mean"), covariance: try join("cov")))
    }
}
