import CBLAS
import Foundation

/// Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017, eq. 6):
/// FD = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2).
/// Matrix square roots come from LAPACK's symmetric eigensolver (dsyevd) on symmetric PSD
/// matrices; tiny negative eigenvalues from round-off are clamped to zero.
public enum FrechetDistance {
    /// FD between two statistics of the same dimension.
    public static func distance(_ a: GaussianStatistics, _ b: GaussianStatistics) throws -> Double {
        guard a.dimension == b.dimension else {
            throw EvaluationError.invalidArgument(field: "dimension", message: "\(a.dimension) != \(b.dimension)")
        }
        let d = a.dimension
        var meanTerm = 0.0
        for j in 0..<d { let diff = a.mean[j] - b.mean[j]; meanTerm += diff * diff }
        var trA = 0.0, trB = 0.0
        for j in 0..<d { trA += a.covariance[j * d + j]; trB += b.covariance[j * d + j] }
        let sqrtA = try symmetricSqrt(a.covariance, n: d)
        // M = sqrtA * S2 * sqrtA (symmetric PSD)
        var tmp = [Double](repeating: 0, count: d * d)
        var m = [Double](repeating: 0, count: d * d)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), 1,
                    sqrtA, Int32(d), b.covariance, Int32(d), 0, &tmp, Int32(d))
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(d), Int32(d), Int32(d), 1,
                    tmp, Int32(d), sqrtA, Int32(d), 0, &m, Int32(d))
        for i in 0..<d { for j in 0..<i { let s = 0.5 * (m[i * d + j] + m[j * d + i]); m[i * d + j] = s; m[j * d + i] = s } }
        let eig = try eigenvalues(m, n: d)
        let trSqrt = eig.reduce(0.0) { $0 + max($1, 0).squareRoot() }
        return max(0, meanTerm + trA + trB - 2 * trSqrt)
    }

    /// FD between two feature sets. // [N, D] each
    public static func distance(_ a: [[Float]], _ b: [[Float]]) throws -> Double {
        try distance(GaussianStatistics(features: a), GaussianStatistics(features: b))
    }

    /// Eigenvalues of a symmetric matrix (ascending).
    static func eigenvalues(_ s: [Double], n: Int) throws -> [Double] {
        var a = s
        var w = [Double](repeating: 0, count: n)
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "U")), Int32(n), &a, Int32(n), &w)
        guard info == 0 else { throw EvaluationError.numerical("dsyevd failed with info \(info)") }
        return w
    }

    /// Principal square root of a symmetric PSD matrix: V diag(sqrt(max(l, 0))) V^T.
    public static func symmetricSqrt(_ s: [Double], n: Int) throws -> [Double] {
        var v = s
        var w = [Double](repeating: 0, count: n)
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(n), &v, Int32(n), &w)
        guard info == 0 else { throw EvaluationError.numerical("dsyevd failed with info \(info)") }
        // Columns of v are eigenvectors; scale column j by sqrt(w_j) then multiply by v^T.
        var scaled = v
        for j in 0..<n {
            let r = max(w[j], 0).squareRoot()
            for i in 0..<n { scaled[i * n + j] *= r }
        }
        var out = [Double](repeating: 0, count: n * n)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(n), 1,
                    scaled, Int32(n), v, Int32(n), 0, &out, Int32(n))
        return out
    }
}
