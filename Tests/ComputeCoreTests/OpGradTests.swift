import XCTest
@testable import ComputeCore

/// Gradient of every differentiable op vs central finite differences (see GradCheck tolerances).
final class OpGradTests: XCTestCase {
    var rng = RNG(seed: 1)
    func r(_ s: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor { rng.uniform(s, lo, hi) }

    func testBroadcastArithmetic() {
        let cases: [([Int], [Int])] = [([3, 4], [3, 4]), ([2, 3, 4], [4]), ([2, 3, 4], [3, 1]),
                                       ([2, 1, 4], [1, 3, 1]), ([5], []), ([1], [2, 3])]
        for (sa, sb) in cases {
            GradCheck.check([r(sa), r(sb)]) { $0[0] + $0[1] }
            GradCheck.check([r(sa), r(sb)]) { $0[0] - $0[1] }
            GradCheck.check([r(sa), r(sb)]) { $0[0] * $0[1] }
            GradCheck.check([r(sa), r(sb, 0.5, 2)]) { $0[0] / $0[1] }
        }
        XCTAssertEqual(Broadcast.shape([2, 1, 4], [3, 1]), [2, 3, 4])
    }

    func testUnary() {
        GradCheck.check([r([3, 5])]) { $0[0].exp() }
        GradCheck.check([r([3, 5], 0.5, 2)]) { $0[0].log() }
        GradCheck.check([r([3, 5], 0.5, 2)]) { $0[0].sqrt() }
        GradCheck.check([r([3, 5], 0.5, 2)]) { $0[0].pow(1.7) }
        GradCheck.check([r([3, 5])]) { $0[0].tanh() }
        GradCheck.check([r([3, 5])]) { $0[0].sigmoid() }
        GradCheck.check([r([3, 5], -3, 3)]) { $0[0].gelu() }
        GradCheck.check([r([3, 5], -3, 3)]) { $0[0].geluTanh() }
        GradCheck.check([r([3, 5], -3, 3)]) { $0[0].silu() }
        GradCheck.check([r([4])]) { ($0[0] * 3 + 1) / 2 - 0.5 }
        GradCheck.check([r([3, 5], 0.5, 2)]) { $0[0].rsqrt() }
        GradCheck.check([r([3, 5])]) { $0[0].square() }
        GradCheck.check([Tensor([-0.7, -0.3, 0.4, 0.9], shape: [4])]) { $0[0].abs() }
        GradCheck.check([Tensor([-0.7, -0.3, 0.4, 0.9], shape: [4])]) { $0[0].relu() }
        GradCheck.check([Tensor([-0.7, -0.3, 0.4, 0.9], shape: [4])]) { $0[0].clamp(-0.5, 0.5) }
        GradCheck.check([r([3, 5], -3, 3)]) { $0[0].sin() * $0[0].cos() }
        GradCheck.check([r([3, 5], -3, 3)]) { $0[0].softplus() }
        GradCheck.check([r([4, 6])]) { var g = RNG(seed: 5); return $0[0].dropout(0.3, rng: &g) }
        GradCheck.check([r([4, 2, 3])]) { var g = RNG(seed: 6); return $0[0].dropPath(0.5, rng: &g) }
        XCTAssertEqual(Tensor([0, 3, 1, 2, 1, 0], shape: [2, 3]).argmax(), [1, 0])
        // GELU value check against erf (PyTorch exact form): gelu(1) = 0.8413447
        XCTAssertEqual(Tensor([1], shape: [1]).gelu().item, 0.8413447, accuracy: 1e-5)
    }

    func testReductions() {
        GradCheck.check([r([2, 3, 4])]) { $0[0].sum() }
        GradCheck.check([r([2, 3, 4])]) { $0[0].sum(axis: 1) }
        GradCheck.check([r([2, 3, 4])]) { $0[0].mean(axes: [0, 2], keepDims: true) }
        GradCheck.check([r([2, 3, 4])]) { $0[0].max(axis: -1) }
        GradCheck.check([r([3, 6], -2, 2)]) { $0[0].softmax() }
        GradCheck.check([r([3, 4, 2], -2, 2)]) { $0[0].softmax(axis: 1) }
        GradCheck.check([r([3, 6], -2, 2)]) { $0[0].logSoftmax() }
        let s = Tensor([1, 2, 3], shape: [1, 3]).softmax()
        XCTAssertEqual(s.array.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertEqual(Tensor([1, 5, 3, 2], shape: [2, 2]).max(axis: 1).array, [5, 3])
    }

    func testMatmul() {
        GradCheck.check([r([3, 4]), r([4, 5])]) { $0[0].matmul($0[1]) }
        GradCheck.check([r([2, 3, 4]), r([4, 5])]) { $0[0].matmul($0[1]) }
        GradCheck.check([r([2, 3, 4]), r([2, 4, 5])]) { $0[0].matmul($0[1]) }
        GradCheck.check([r([2, 4, 3]), r([2, 5, 4])]) { $0[0].matmul($0[1], transposeA: true, transposeB: true) }
        GradCheck.check([r([4, 3]), r([2, 4, 5])]) { $0[0].matmul($0[1], transposeA: true) }
        GradCheck.check([r([2, 3, 4]), r([5, 4]), r([5])]) { Tensor.linear($0[0], $0[1], $0[2]) }
        let a = Tensor([1, 2, 3, 4], shape: [2, 2]), b = Tensor([5, 6, 7, 8], shape: [2, 2])
        XCTAssertEqual(a.matmul(b).array, [19, 22, 43, 50])
    }

    func testShapeOps() {
        GradCheck.check([r([2, 3, 4])]) { $0[0].reshaped([6, 4]) * $0[0].reshaped([6, 4]) }
        GradCheck.check([r([2, 3, 4])]) { $0[0].permuted([2, 0, 1]) }
        GradCheck.check([r([2, 3, 4])]) { $0[0].transposed(0, 1) }
        GradCheck.check([r([4, 3])]) { $0[0].slice(axis: 0, 1, 3) }
        GradCheck.check([r([2, 5, 3])]) { $0[0].slice(axis: 1, 1, 4) }
        GradCheck.check([r([2, 3]), r([2, 2])]) { Tensor.concat([$0[0], $0[1]], axis: 1) }
        GradCheck.check([r([2, 6])]) { let p = $0[0].split(axis: 1, sizes: [2, 4]); return p[0].sum(axis: 1) * p[1].sum(axis: 1) }
        GradCheck.check([r([5, 3])]) { $0[0].indexSelect(axis: 0, [4, 0, 4]) }
        GradCheck.check([r([2, 5, 3]), r([2, 2, 3])]) { $0[0].scatter(axis: 1, [1, 3], $0[1]) }
        GradCheck.check([r([6, 4])]) { Tensor.gather($0[0], ids: [1, 5, 1, 0], shape: [2, 2]) }
        GradCheck.check([r([3, 2]), r([3, 2])]) { Tensor.select(Tensor([1, 0, 0, 1, 1, 0], shape: [3, 2]), $0[0], $0[1]) }
        GradCheck.check([r([2, 3])]) { $0[0].expand([4, 2, 3]) }
        let x = Tensor.arange(6).reshaped([2, 3])
        XCTAssertEqual(x.transposed().array, [0, 3, 1, 4, 2, 5])
        XCTAssertEqual(x.scatter(axis: 1, [2], Tensor([9, 9], shape: [2, 1])).array, [0, 1, 9, 3, 4, 9])
    }

    func testNorms() {
        GradCheck.check([r([3, 6]), r([6]), r([6])]) { Tensor.layerNorm($0[0], weight: $0[1], bias: $0[2]) }
        GradCheck.check([r([2, 2, 5])]) { Tensor.layerNorm($0[0], weight: nil, bias: nil) }
        GradCheck.check([r([3, 6]), r([6])]) { Tensor.rmsNorm($0[0], weight: $0[1]) }
        GradCheck.check([r([3, 4])]) { $0[0].l2Normalized() }
        let y = Tensor.layerNorm(Tensor([1, 2, 3, 4], shape: [1, 4]), weight: nil, bias: nil)
        XCTAssertEqual(y.array.reduce(0, +), 0, accuracy: 1e-5)
    }

    func testLosses() {
        let targets = [2, 0, -100, 1]
        GradCheck.check([r([4, 3], -2, 2)]) { Tensor.crossEntropy($0[0], targets: targets) }
        let w = Tensor([0.2, 1, 3], shape: [3])
        GradCheck.check([r([4, 3], -2, 2)]) { Tensor.crossEntropy($0[0], targets: targets, weights: w) }
        GradCheck.check([r([3, 4]), r([3, 4])]) { Tensor.mseLoss($0[0], $0[1]) }
        GradCheck.check([r([3, 4]), r([3, 4])]) { Tensor.l1Loss($0[0], $0[1]) }
        GradCheck.check([r([3, 4]), r([3, 4])]) { Tensor.cosineLoss($0[0], $0[1]) }
        // Uniform logits: CE = log(C), ignoring ignored rows.
        let ce = Tensor.crossEntropy(Tensor(zeros: [2, 4]), targets: [1, -100])
        XCTAssertEqual(ce.item, logf(4), accuracy: 1e-6)
    }

    func testGradientsReachInputsAndFrozenParamsStay() {
        let w = r([3, 3]).requiringGrad(false)
        let x = r([2, 3]).requiringGrad()
        let loss = Tensor.linear(x, w, nil).tanh().sum()
        loss.backward()
        XCTAssertNotNil(x.grad)
        XCTAssertNil(w.grad)
        let y = withNoGrad { Tensor.linear(x, w, nil) }
        XCTAssertFalse(y.requiresGrad)
        // stop-gradient blocks flow
        let z = (x.stopGradient() * x).sum()
        x.zeroGrad(); z.backward()
        for i in 0..<x.count { XCTAssertEqual(x.grad!.ptr[i], x.ptr[i], accuracy: 1e-6) }
    }

    func testRNGReproducible() {
        var a = RNG(seed: 5), b = RNG(seed: 5)
        XCTAssertEqual(a.normal([10]).array, b.normal([10]).array)
        XCTAssertEqual(a.permutation(20).sorted(), Array(0..<20))
        let n = a.normal([20000])
        let mean = n.mean().item, v = (n * n).mean().item
        XCTAssertEqual(mean, 0, accuracy: 0.03); XCTAssertEqual(v, 1, accuracy: 0.05)
        let bern = a.bernoulli([10000], p: 0.3).mean().item
        XCTAssertEqual(bern, 0.3, accuracy: 0.02)
        let d = Tensor.ones([1000]).dropout(0.5, rng: &a)
        XCTAssertEqual(d.mean().item, 1, accuracy: 0.1)
        XCTAssertTrue(d.array.allSatisfy { $0 == 0 || $0 == 2 })
    }
}
