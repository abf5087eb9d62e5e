import CBLAS
import XCTest
@testable import ComputeCore

/// OpenBLAS's kernel choice: a CPU it does not know gets its slowest kernels (Prescott), which
/// `Threads` reports once on standard error with the fix (`scripts/blas-env`).
final class ThreadsTests: XCTestCase {
    func testTheSlowKernelWarningNamesTheFixOnlyForPrescottWithoutAChoice() throws {
        let w = try XCTUnwrap(Threads.slowKernelWarning(core: "Prescott", coreType: nil))
        XCTAssertTrue(w.contains("OPENBLAS_CORETYPE=SkylakeX") && w.contains("scripts/blas-env"), w)
        XCTAssertNotNil(Threads.slowKernelWarning(core: "Prescott", coreType: ""))
        XCTAssertNil(Threads.slowKernelWarning(core: "Prescott", coreType: "Haswell"), "a choice was made")
        for core in ["Haswell", "SkylakeX", "Zen", "SapphireRapids"] {
            XCTAssertNil(Threads.slowKernelWarning(core: core, coreType: nil), core)
        }
    }

    /// Under the test command (`scripts/test` evaluates `scripts/blas-env`) OpenBLAS never runs on
    /// its fallback kernels where the CPU has better ones.
    func testOpenBLASUsesARealKernelUnderTheScripts() {
        let core = Threads.coreName
        XCTAssertFalse(core.isEmpty || core == "unknown", core)
        if ProcessInfo.processInfo.environment["MESH_REQUIRE_ALL"] == "1" {
            XCTAssertNotEqual(core, "Prescott", "OpenBLAS fell back to Prescott: scripts/test should have set OPENBLAS_CORETYPE")
        }
    }

    /// Denormals are flushed on every thread that multiplies: a denormal operand reads as zero (DAZ)
    /// and a denormal result is written as zero (FTZ), instead of microcode assists ~100x slower.
    func testMatmulFlushesDenormalsOnItsThreads() {
        let a = Tensor([1e-39, 1], shape: [1, 2]), b = Tensor([1, 0, 0, 1e-20], shape: [2, 2])
        let c = a.matmul(b)   // [1e-39, 1e-20]: the first is a denormal input, products stay normal otherwise
        XCTAssertTrue(mesh_flushes_denormals() != 0, "the calling thread flushes after a GEMM")
        XCTAssertEqual(c.ptr[0], 0, "denormal operand read as zero")
        XCTAssertEqual(c.ptr[1], 1e-20)
        let tiny = Tensor([1e-20], shape: [1, 1]).matmul(Tensor([1e-20], shape: [1, 1]))   // 1e-40 would be denormal
        XCTAssertEqual(tiny.ptr[0], 0, "denormal result flushed to zero")
    }
}
