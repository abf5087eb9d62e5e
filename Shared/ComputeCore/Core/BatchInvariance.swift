import Dispatch

/// Batch-invariant matrix products (serving): inside `withBatchInvariance`, `Tensor.linear` and
/// `matmul` against a 2-D weight compute every sample with the GEMM shape it would have alone —
/// one sgemm per sample (rows `[b, ...]` of a `[B, ..., in]` input; one row per sample of a
/// `[B, in]` input) — instead of one GEMM over all rows. An sgemm kernel may take a different
/// path (tail kernels, blocking) for a different row count, which moves a sample's last bits
/// with its batch; per-sample calls cannot. The calls of a batch are spread over the GEMM
/// workers (each single-threaded), so a batch still uses every core.
/// Per task (and per thread outside tasks), like `GradMode`.
public enum BatchInvariance {
    @TaskLocal static var enabled = false
    /// True inside `withBatchInvariance` in the current task / thread.
    public static var isEnabled: Bool { enabled }

    /// C[u] = A[u] · op(B) (+ beta·C[u]) for `units` row blocks of `rows` rows each: one
    /// single-threaded sgemm per unit (per half unit when `rows` >= 128 is even), spread across
    /// `Threads.gemmWorkers`.
    /// A is [units·rows, k] (lda), B is [k, n] or [n, k] (`transB`), C is [units·rows, n] (ldc).
    static func gemmUnits(units: Int, rows: Int, transB: Bool, n: Int, k: Int,
                          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                          beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        // A large sample is always cut into two halves (whatever the batch), so a sample served
        // alone still uses two workers and every sample keeps the same call shapes.
        let halves = rows >= 128 && rows % 2 == 0
        let units = halves ? units * 2 : units, rows = halves ? rows / 2 : rows
        let workers = min(Threads.gemmWorkers, units)
        let aRaw = UnsafeRawPointer(a), bRaw = UnsafeRawPointer(b), cRaw = UnsafeMutableRawPointer(c)
        func run(_ s: Int, _ e: Int) {
            let a = aRaw.assumingMemoryBound(to: Float.self), b = bRaw.assumingMemoryBound(to: Float.self)
            let c = cRaw.assumingMemoryBound(to: Float.self)
            for u in s..<e {
                BLAS.gemm(false, transB, rows, n, k, 1, a + u * rows * lda, lda, b, ldb, beta, c + u * rows * ldc, ldc, split: false)
            }
        }
        if workers <= 1 || units * rows * n * k < Threads.gemmSplitMNK {
            run(0, units)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers) { w in run(units * w / workers, units * (w + 1) / workers) }
        }
    }
}

/// Runs `body` with batch-invariant matrix products (`BatchInvariance`) in the current task / thread.
@discardableResult
public func withBatchInvariance<R>(_ body: () throws -> R) rethrows -> R {
    try BatchInvariance.$enabled.withValue(true, operation: body)
}
