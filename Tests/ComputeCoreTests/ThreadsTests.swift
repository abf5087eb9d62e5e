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
}
