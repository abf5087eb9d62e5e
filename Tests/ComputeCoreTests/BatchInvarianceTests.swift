import ComputeCore
import XCTest

/// `withBatchInvariance`: a sample's linear / matmul output is bit-identical to the sample alone,
/// whatever the batch around it; values equal the plain batched GEMM up to rounding.
final class BatchInvarianceTests: XCTestCase {
    func rows(_ t: Tensor, _ b: Int) -> [Float] {
        let per = t.count / t.shape[0]
        return Array(t.array[(b * per)..<((b + 1) * per)])
    }

    func testLinearAndMatmulRowsDoNotDependOnTheBatch() {
        var rng = RNG(seed: 3)
        let w = rng.normal([96, 80]), bias = rng.normal([96])
        for shape in [[7, 64, 80], [3, 128, 80], [5, 33, 80], [9, 80]] {
            let x = rng.normal(shape)
            let batched = withNoGrad { withBatchInvariance { Tensor.linear(x, w, bias) } }
            let mm = withNoGrad { withBatchInvariance { x.matmul(w, transposeB: true) } }
            let plain = withNoGrad { Tensor.linear(x, w, bias) }
            for b in Set([0, min(3, shape[0] - 1), shape[0] - 1]).sorted() {
                let alone = x.slice(axis: 0, b, b + 1).copy()
                let one = withNoGrad { withBatchInvariance { Tensor.linear(alone, w, bias) } }
                XCTAssertEqual(rows(batched, b), one.array, "linear \(shape) sample \(b)")
                let oneMM = withNoGrad { withBatchInvariance { alone.matmul(w, transposeB: true) } }
                XCTAssertEqual(rows(mm, b), oneMM.array, "matmul \(shape) sample \(b)")
                // A different batch around the same sample: the sample's rows do not move.
                let other = Tensor.concat([rng.normal([2] + Array(shape.dropFirst())), alone], axis: 0)
                let inOther = withNoGrad { withBatchInvariance { Tensor.linear(other, w, bias) } }
                XCTAssertEqual(rows(inOther, 2), one.array, "linear \(shape) sample \(b) in another batch")
            }
            for (u, v) in zip(batched.array, plain.array) { XCTAssertEqual(u, v, accuracy: 1e-4 * max(1, abs(v))) }
        }
        XCTAssertFalse(BatchInvariance.isEnabled, "scoped to the closure")
    }
}
