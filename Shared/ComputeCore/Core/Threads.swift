import CBLAS
import Dispatch
import Foundation

/// Thread settings. By default GEMMs are split across our own workers, each calling a
/// single-threaded OpenBLAS sgemm: OpenBLAS's pthread workers spin (sched_yield) for a long
/// time after each call, which starves elementwise kernels on a 2-core machine.
public enum Threads {
    /// Worker count used by parallel elementwise/attention kernels (1 = serial).
    public static var elementwise = 2
    /// Workers that share one large GEMM (our split; OpenBLAS itself runs 1 thread).
    public static var gemmWorkers = 2
    /// Minimum elements per worker before an elementwise kernel splits.
    public static var grain = 1 << 15
    /// Minimum m*n*k before a GEMM is split across `gemmWorkers`.
    public static var gemmSplitMNK = 1 << 21

    /// Uses `n` threads for everything: GEMM split workers and elementwise workers
    /// (OpenBLAS's own threading is set to 1).
    public static func configure(_ n: Int) {
        precondition(n >= 1, "Threads.configure: thread count must be >= 1, got \(n)")
        configured = true
        openblas_set_num_threads(1)
        elementwise = n
        gemmWorkers = n
    }

    /// Uses OpenBLAS's own threading with `n` threads for GEMM instead of the split.
    public static func configureOpenBLAS(_ n: Int) {
        precondition(n >= 1, "Threads.configureOpenBLAS: thread count must be >= 1, got \(n)")
        configured = true
        openblas_set_num_threads(Int32(n))
        gemmWorkers = 1
        elementwise = n
    }

    /// Current OpenBLAS thread count.
    public static var blas: Int { Int(openblas_get_num_threads()) }

    static var configured = false
    /// Before the first GEMM: unless configured explicitly, OpenBLAS runs single-threaded under
    /// our split (defaults: 2 workers).
    static let initialised: Bool = {
        if !configured { openblas_set_num_threads(1) }
        mesh_flush_denormals()
        if let warning = slowKernelWarning(core: coreName, coreType: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]) {
            FileHandle.standardError.write(Data((warning + "\n").utf8))
        }
        return true
    }()

    /// The kernel family OpenBLAS chose for this CPU at load time (e.g. `Haswell`, `SkylakeX`, `Zen`).
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// A warning when OpenBLAS fell back to its slowest kernels (`Prescott`, SSE3) because it does not
    /// know the CPU (Debian bookworm's 0.3.21 on Intel Xeon model 207: sgemm ~6x slower) and
    /// `OPENBLAS_CORETYPE` does not choose; nil otherwise. `scripts/blas-env` sets it for the scripts.
    static func slowKernelWarning(core: String, coreType: String?) -> String? {
        guard core == "Prescott", (coreType ?? "").isEmpty else { return nil }
        return "warning: OpenBLAS did not recognise this CPU and uses its slowest kernels (Prescott); "
            + "set OPENBLAS_CORETYPE=SkylakeX (AVX-512) or Haswell (AVX2) before starting, as `eval \"$(scripts/blas-env)\"` does"
    }
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
        mesh_flush_denormals()   // worker threads too (shim.h)
        body(n * c / chunks, n * (c + 1) / chunks)
    }
}
