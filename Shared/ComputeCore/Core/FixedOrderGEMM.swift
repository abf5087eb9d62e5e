import CKernels
import Dispatch

/// Fixed-order matrix product for batch-invariant serving (`withBatchInvariance`):
/// C [m, n] (+)= A [m, k] · op(B), where every element of C is one fused multiply-add chain over
/// k = 0..<k in ascending order, started from 0 — whatever m, n, the row block or the worker that
/// computes it. A row's result therefore never depends on the rows around it, so a batch of
/// samples runs as one call (the right-hand side packed once for all of them) and each sample's
/// bits equal the sample served alone. OpenBLAS's sgemm gives no such guarantee (its kernels and
/// blocking change with M and N, and with them the last bits).
///
/// Kernel: `Shared/CKernels` (AVX2 + FMA, 6 x 16 accumulators, chosen at run time; a portable
/// `fmaf` kernel with the same arithmetic elsewhere). Rows are split across `Threads.gemmWorkers`.
public enum FixedOrderGEMM {
    /// True when the vectorised (AVX2 + FMA) kernel runs on this CPU; the bits are the same either way.
    public static var isVectorized: Bool { lm_fo_vectorized() != 0 }

    /// C (+)= A · op(B). A is [m, k] (row stride `lda`); B is [n, k] when `transB` (a PyTorch
    /// weight, C = A Bᵀ) else [k, n] (row stride `ldb`); C is [m, n] (row stride `ldc`).
    /// `accumulate`: C += product (one rounding of c + chain); otherwise C = product.
    public static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                            accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
        check(m, n, k)
        if m == 0 || n == 0 { return }
        let packed = PackedOperand(n: n, k: k, b: b, ldb: ldb, transB: transB)
        gemm(m: m, a: a, lda: lda, packed: packed, accumulate: accumulate, c: c, ldc: ldc)
    }

    /// `Tensor.linear`'s product x Wᵀ with W [n, k] taken packed from the task's
    /// `PackedWeightCache` when one is installed (`withPackedWeights`), packed afresh otherwise.
    static func linear(m: Int, a: UnsafePointer<Float>, weight w: Tensor, accumulate: Bool,
                       c: UnsafeMutablePointer<Float>) {
        let n = w.shape[0], k = w.shape[1]
        check(m, n, k)
        if m == 0 || n == 0 { return }
        let packed = PackedWeightCache.current?.packed(w) ?? PackedOperand(weight: w)
        gemm(m: m, a: a, lda: k, packed: packed, accumulate: accumulate, c: c, ldc: n)
    }

    private static func check(_ m: Int, _ n: Int, _ k: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "FixedOrderGEMM: negative size m \(m) n \(n) k \(k)")
        precondition(m < Int(Int32.max) && n < Int(Int32.max) && k < Int(Int32.max), "FixedOrderGEMM: sizes must fit in Int32")
    }

    /// Rows split across `Threads.gemmWorkers` in multiples of the kernel's 6-row block (only
    /// speed depends on the split).
    static func gemm(m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedOperand, accumulate: Bool,
                     c: UnsafeMutablePointer<Float>, ldc: Int) {
        let n = packed.n, k = packed.k
        let workers = Swift.min(Threads.gemmWorkers, (m + 5) / 6)
        if workers <= 1 || m * n * k < Threads.gemmSplitMNK {
            lm_fo_gemm(Int32(m), Int32(n), Int32(k), a, Int32(lda), packed.buffer, c, Int32(ldc), accumulate ? 1 : 0)
            return
        }
        let blocks = (m + 5) / 6
        let aRaw = UnsafeRawPointer(a), cRaw = UnsafeMutableRawPointer(c), pRaw = UnsafeRawPointer(packed.buffer)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let s = Swift.min(m, blocks * w / workers * 6), e = Swift.min(m, blocks * (w + 1) / workers * 6)
            guard e > s else { return }
            let a = aRaw.assumingMemoryBound(to: Float.self), c = cRaw.assumingMemoryBound(to: Float.self)
            lm_fo_gemm(Int32(e - s), Int32(n), Int32(k), a + s * lda, Int32(lda), pRaw.assumingMemoryBound(to: Float.self),
                       c + s * ldc, Int32(ldc), accumulate ? 1 : 0)
        }
        withExtendedLifetime(packed) {}
    }
}

/// A right-hand side B in the fixed-order kernel's panel layout ([ceil(n/16)][k][16]).
final class PackedOperand: @unchecked Sendable {
    let n: Int, k: Int
    let buffer: UnsafeMutablePointer<Float>

    init(n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int, transB: Bool) {
        self.n = n; self.k = k
        buffer = .allocate(capacity: Swift.max(1, lm_fo_packed_count(Int32(n), Int32(k))))
        lm_fo_pack(Int32(n), Int32(k), b, Int32(ldb), transB ? 1 : 0, buffer)
    }
    /// A PyTorch-layout weight W [n, k] (C = A Wᵀ).
    convenience init(weight w: Tensor) {
        self.init(n: w.shape[0], k: w.shape[1], b: w.ptr, ldb: w.shape[1], transB: true)
    }
    deinit { buffer.deallocate() }
}
