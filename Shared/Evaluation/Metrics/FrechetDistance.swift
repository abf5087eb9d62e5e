import CBLAS
import Foundation

/// Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017, eq. 6):
/// FD = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2).
/// Matrix square roots come from LAPACK's symmetric eigensolver (dsyevd) on symmetric PSD
/// matrices; tiny negative eigenvalues from round-off are clamped to zero.
public enum FrechetDistance {
    /// FD between two statistics of the same dimension.
    public static func distance(_ a: GaussianStatistics, _ b: GaussianStatistics) throws -> Double {
        try FrechetReference(a).distance(to: b)
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
