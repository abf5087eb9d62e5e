import ComputeCore
import XCTest

/// `FixedOrderGEMM`: every output element is exactly one ascending-k FMA chain from 0 (checked
/// bit for bit against a scalar reference), whatever the row count, the row's position or the
/// number of workers.
final class FixedOrderGEMMTests: XCTestCase {
    /// The definition: c[i][j] = fma chain over k of a[i][kk] * b(kk, j), then + c when accumulating.
    func reference(m: Int, n: Int, k: Int, a: [Float], b: [Float], transB: Bool, c0: [Float]?) -> [Float] {
        var out = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc: Float = 0
                for kk in 0..<k { acc = acc.addingProduct(a[i * k + kk], transB ? b[j * k + kk] : b[kk * n + j]) }
                out[i * n + j] = c0.map { $0[i * n + j] + acc } ?? acc
            }
        }
        return out
    }

    func run(m: Int, n: Int, k: Int, a: [Float], b: [Float], transB: Bool, c0: [Float]?) -> [Float] {
        var c = c0 ?? [Float](repeating: .nan, count: m * n)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    FixedOrderGEMM.gemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: transB ? k : n,
                                        transB: transB, accumulate: c0 != nil, c: cp.baseAddress!, ldc: n)
                }
            }
        }
        return c
    }

    func testEveryElementIsTheAscendingFMAChain() {
        var rng = RNG(seed: 11)
        for (m, n, k) in [(1, 1, 1), (5, 15, 7), (6, 16, 64), (7, 17, 129), (13, 40, 3), (100, 33, 96), (3, 2, 0)] {
            for transB in [true, false] {
                for accumulate in [false, true] {
                    let a = rng.normal([m, Swift.max(k, 1)]).array.prefix(m * k).map { $0 }
                    let b = rng.normal([Swift.max(n * k, 1)]).array.prefix(n * k).map { $0 }
                    let c0 = accumulate ? rng.normal([m * n]).array : nil
                    XCTAssertEqual(run(m: m, n: n, k: k, a: a, b: b, transB: transB, c0: c0),
                                   reference(m: m, n: n, k: k, a: a, b: b, transB: transB, c0: c0),
                                   "m \(m) n \(n) k \(k) transB \(transB) accumulate \(accumulate)")
                }
            }
        }
    }

    func testARowsBitsDoNotDependOnTheRowsAroundItOrTheWorkers() {
        var rng = RNG(seed: 12)
        let n = 72, k = 200
        let b = rng.normal([n, k]).array
        let big = rng.normal([301, k]).array
        let savedSplit = Threads.gemmSplitMNK, savedWorkers = Threads.gemmWorkers
        defer { Threads.gemmSplitMNK = savedSplit; Threads.gemmWorkers = savedWorkers }
        Threads.gemmSplitMNK = 1; Threads.gemmWorkers = 2
        let all = run(m: 301, n: n, k: k, a: big, b: b, transB: true, c0: nil)
        Threads.gemmWorkers = 1
        XCTAssertEqual(run(m: 301, n: n, k: k, a: big, b: b, transB: true, c0: nil), all, "one worker vs two")
        for row in [0, 5, 6, 150, 300] {
            let alone = run(m: 1, n: n, k: k, a: Array(big[(row * k)..<((row + 1) * k)]), b: b, transB: true, c0: nil)
            XCTAssertEqual(alone, Array(all[(row * n)..<((row + 1) * n)]), "row \(row) alone vs in 301 rows")
        }
        // Close to sgemm (a different summation order): a sanity check of the layout.
        let x = Tensor(big, shape: [301, k]), w = Tensor(b, shape: [n, k])
        let plain = withNoGrad { x.matmul(w, transposeB: true) }.array
        for (u, v) in zip(all, plain) { XCTAssertEqual(u, v, accuracy: 1e-3 * Swift.max(1, abs(v))) }
    }

    func testTheVectorisedKernelRunsOnThisMachine() throws {
        #if arch(x86_64)
        // The project's machines (x86-64 EPYC) have AVX2 + FMA; the portable kernel would give
        // the same bits, only much slower — serving must not fall back to it silently.
        XCTAssertTrue(FixedOrderGEMM.isVectorized, "AVX2+FMA kernel expected on this x86-64 machine")
        #endif
    }
}

/// `PackedWeightCache`: a weight is packed once per cache and the products keep their bits.
final class PackedWeightCacheTests: XCTestCase {
    func testCachedWeightsGiveTheSameBitsAndArePackedOnce() {
        var rng = RNG(seed: 13)
        let w1 = rng.normal([40, 24]), w2 = rng.normal([40, 24]), bias = rng.normal([40])
        let x = rng.normal([5, 7, 24])
        let fresh1 = withNoGrad { withBatchInvariance { Tensor.linear(x, w1, bias) } }.array
        let fresh2 = withNoGrad { withBatchInvariance { Tensor.linear(x, w2, nil) } }.array
        let cache = PackedWeightCache()
        for _ in 0..<3 {
            let (c1, c2) = withNoGrad { withBatchInvariance { withPackedWeights(cache) {
                (Tensor.linear(x, w1, bias).array, Tensor.linear(x, w2, nil).array)
            } } }
            XCTAssertEqual(c1, fresh1, "w1 from the cache")
            XCTAssertEqual(c2, fresh2, "w2 (same shape, another tensor) is not confused with w1")
        }
        XCTAssertEqual(cache.count, 2, "each weight packed once over three rounds")
        // Outside withBatchInvariance the cache is not used (plain sgemm).
        _ = withNoGrad { withPackedWeights(cache) { Tensor.linear(x, rng.normal([8, 24]), nil) } }
        XCTAssertEqual(cache.count, 2)
    }
}
