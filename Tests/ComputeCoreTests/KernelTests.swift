import XCTest
@testable import ComputeCore

final class KernelTests: XCTestCase {
    func testFastExpAndErfAccuracy() {
        var worstExp: Float = 0, worstErf: Float = 0
        var x: Float = -80
        while x < 80 {
            worstExp = max(worstExp, abs(Kernels.expFast(x) - expf(x)) / expf(x))
            x += 0.0137
        }
        x = -6
        while x < 6 { worstErf = max(worstErf, abs(Kernels.erfFast(x) - erff(x))); x += 0.001 }
        XCTAssertLessThan(worstExp, 1e-6)
        XCTAssertLessThan(worstErf, 5e-7)
    }

    func testSplitGemmMatchesSingleCall() {
        var rng = RNG(seed: 2)
        for (ta, tb, m, n, k) in [(false, true, 300, 130, 64), (true, false, 90, 260, 100), (false, false, 129, 257, 70)] {
            let a = rng.normal(ta ? [k, m] : [m, k]), b = rng.normal(tb ? [n, k] : [k, n])
            let c1 = Tensor(repeating: 1, shape: [m, n]), c2 = Tensor(repeating: 1, shape: [m, n])
            let saved = Threads.gemmSplitMNK
            Threads.gemmSplitMNK = 1
            BLAS.gemm(ta, tb, m, n, k, 0.5, a.ptr, ta ? m : k, b.ptr, tb ? k : n, 1, c1.ptr, n)
            Threads.gemmSplitMNK = saved
            BLAS.gemm(ta, tb, m, n, k, 0.5, a.ptr, ta ? m : k, b.ptr, tb ? k : n, 1, c2.ptr, n, split: false)
            for i in 0..<c1.count { XCTAssertEqual(c1.ptr[i], c2.ptr[i], accuracy: 1e-4) }
        }
    }

    /// One-row products take the matrix-vector path (`cblas_sgemv`): every transpose, with padded
    /// leading dimensions, alpha and beta, against a plain triple loop.
    func testOneRowGemmMatchesReference() {
        var rng = RNG(seed: 5)
        let (n, k) = (37, 23)
        for ta in [false, true] {
            for tb in [false, true] {
                let lda = ta ? 3 : k + 2, ldb = tb ? k + 5 : n + 4   // a: [1, k] or [k, 1] (stride lda); b: [k, n] or [n, k]
                let a = rng.normal([ta ? k * lda : lda]), b = rng.normal([ldb * (tb ? n : k)])
                let c = Tensor(repeating: 1, shape: [n])
                BLAS.gemm(ta, tb, 1, n, k, 0.5, a.ptr, lda, b.ptr, ldb, 2, c.ptr, n)
                for j in 0..<n {
                    var acc: Float = 0
                    for l in 0..<k { acc += a.ptr[ta ? l * lda : l] * b.ptr[tb ? j * ldb + l : l * ldb + j] }
                    XCTAssertEqual(c.ptr[j], 0.5 * acc + 2, accuracy: 1e-4, "transA \(ta) transB \(tb) column \(j)")
                }
            }
        }
    }

    func testParallelReductionsMatchSerial() {
        // Sizes above the parallel threshold (2 * Threads.grain work units).
        var rng = RNG(seed: 4)
        let x = rng.normal([600, 200])
        let s = x.sum(axis: 0)
        for j in stride(from: 0, to: 200, by: 37) {
            var acc: Float = 0
            for i in 0..<600 { acc += x.ptr[i * 200 + j] }
            XCTAssertEqual(s.ptr[j], acc, accuracy: 1e-3)
        }
        let w = Tensor.ones([200]).requiringGrad(), b = Tensor.zeros([200]).requiringGrad()
        let g = rng.normal([600, 200])
        Tensor.layerNorm(x, weight: w, bias: b).backward(g)
        let xhat = Tensor.layerNorm(x, weight: nil, bias: nil)
        for j in stride(from: 0, to: 200, by: 41) {
            var dw: Float = 0, db: Float = 0
            for i in 0..<600 { dw += g.ptr[i * 200 + j] * xhat.ptr[i * 200 + j]; db += g.ptr[i * 200 + j] }
            XCTAssertEqual(w.grad!.ptr[j], dw, accuracy: 1e-2)
            XCTAssertEqual(b.grad!.ptr[j], db, accuracy: 1e-2)
        }
    }

    func testBufferPoolReusesMemoryAcrossSteps() {
        var rng = RNG(seed: 3)
        let lin = Linear(64, 64, rng: &rng)
        let x = rng.normal([32, 64])
        func step() { Tensor.mseLoss(lin(x).gelu(), x).backward(); lin.zeroGrad() }
        step()
        let cached = BufferPool.shared.cachedBytes
        BufferPool.shared.resetPeak()
        let live0 = BufferPool.shared.liveBytes
        step(); step()
        XCTAssertGreaterThan(cached, 0)
        XCTAssertEqual(BufferPool.shared.liveBytes, live0)        // nothing leaks per step
        XCTAssertLessThan(BufferPool.shared.peakLiveBytes - live0, 1 << 20)
    }
}
