import CBLAS
import ComputeCore
import Foundation

/// Row-major float kernels on OpenBLAS used by the pretrained networks' inference paths.
enum DenseKernels {
    /// Y = X W^T + b. X [rows, inF], W [outF, inF], b [outF], Y [rows, outF].
    static func linear(_ x: UnsafePointer<Float>, rows: Int, inF: Int, weight: UnsafePointer<Float>,
                       bias: UnsafePointer<Float>?, outF: Int, into y: UnsafeMutablePointer<Float>) {
        if let b = bias {
            for r in 0..<rows { (y + r * outF).update(from: b, count: outF) }
        }
        BLAS.gemm(false, true, rows, outF, inF, 1,
                    x, inF, weight, inF, bias == nil ? 0 : 1, y, outF)
    }

    /// dX = dY W (the input gradient of `linear`). dY [rows, outF], W [outF, inF], dX [rows, inF];
    /// accumulates into dX when `accumulate`.
    static func linearBackwardInput(_ dy: UnsafePointer<Float>, rows: Int, outF: Int, weight: UnsafePointer<Float>,
                                    inF: Int, into dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        BLAS.gemm(false, false, rows, inF, outF, 1,
                    dy, outF, weight, inF, accumulate ? 1 : 0, dx, inF)
    }

    /// In-place LayerNorm over the last axis; returns per-row (mean, 1/std) for backward. x [rows, n]
    @discardableResult
    static func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, n: Int, gamma: UnsafePointer<Float>,
                          beta: UnsafePointer<Float>, eps: Float) -> [Float] {
        var rstds = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            let row = x + r * n
            var mean: Float = 0
            for i in 0..<n { mean += row[i] }
            mean /= Float(n)
            var v: Float = 0
            for i in 0..<n { let d = row[i] - mean; v += d * d }
            let rstd = 1 / (v / Float(n) + eps).squareRoot()
            rstds[r] = rstd
            for i in 0..<n { row[i] = (row[i] - mean) * rstd * gamma[i] + beta[i] }
        }
        return rstds
    }

    /// Row-wise softmax in place. x [rows, n]
    static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
        for r in 0..<rows {
            let row = x + r * n
            var m = -Float.infinity
            for i in 0..<n { m = max(m, row[i]) }
            var s: Float = 0
            for i in 0..<n { let e = expf(row[i] - m); row[i] = e; s += e }
            let inv = 1 / s
            for i in 0..<n { row[i] *= inv }
        }
    }

    /// Exact GELU, x * Phi(x), in place.
    static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let v = x[i]; x[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752)) }
    }

    /// d/dx of exact GELU.
    @inline(__always) static func geluDerivative(_ v: Float) -> Float {
        0.5 * (1 + erff(v * 0.70710678118654752)) + v * expf(-0.5 * v * v) * 0.39894228040143268
    }
}
