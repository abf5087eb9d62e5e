import CBLAS
import Dispatch

/// Thread settings: OpenBLAS threads for GEMM, and worker count for elementwise kernels.
public enum Threads {
    /// Worker count used by parallel elementwise/attention kernels (1 = serial).
    public static var elementwise = 2
    /// Minimum elements per worker before an elementwise kernel splits.
    public static var grain = 1 << 15

    /// Sets OpenBLAS threads and the elementwise worker count together.
    public static func configure(_ n: Int) {
        precondition(n >= 1, "Threads.configure: thread count must be >= 1, got \(n)")
        openblas_set_num_threads(Int32(n))
        elementwise = n
    }

    /// Current OpenBLAS thread count.
    public static var blas: Int { Int(openblas_get_num_threads()) }
}

/// Splits [0, n) into contiguous chunks run on up to `Threads.elementwise` workers when
/// `n * cost` is large enough to pay for the dispatch.
@inline(__always)
func parallelRange(_ n: Int, cost: Int = 1, _ body: (Int, Int) -> Void) {
    let workers = Threads.elementwise
    if workers <= 1 || n * cost < 2 * Threads.grain || n < 2 {
        body(0, n); return
    }
    let chunks = min(workers, n)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        body(n * c / chunks, n * (c + 1) / chunks)
    }
}
