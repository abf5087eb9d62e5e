import XCTest
@testable import ComputeCore

/// Forward-mode JVPs vs central finite differences (h = 1e-2, atol 2e-3, rtol 2e-2).
final class JVPTests: XCTestCase {
    var rng = RNG(seed: 41)

    func testPointwiseAndReductionJVPs() {
        let x = rng.uniform([3, 4], 0.5, 1.5), y = rng.uniform([4], 0.5, 1.5)
        GradCheck.checkJVP([x, y]) { ($0[0] * $0[1] + $0[0] / $0[1] - $0[1]).exp().log() }
        for f in [{ (t: Tensor) in t.sqrt() }, { $0.pow(1.5) }, { $0.tanh() }, { $0.sigmoid() }, { $0.gelu() }, { $0.silu() }] as [(Tensor) -> Tensor] { GradCheck.checkJVP([x]) { f($0[0]) } }
        GradCheck.checkJVP([x]) { $0[0].softmax().logSoftmax(axis: 0).sum(axis: 1).mean() }
        // well-separated values: max is not differentiable at near-ties
        GradCheck.checkJVP([Tensor([0, 3, 1, 2, 5, 1, 0, 2, 1, 1.5, 4, 0], shape: [3, 4])]) { $0[0].max(axis: 1) }
        GradCheck.checkJVP([x, rng.normal([4, 2])]) { $0[0].matmul($0[1]) }
        GradCheck.checkJVP([x, rng.normal([4]), rng.normal([4])]) { Tensor.layerNorm($0[0], weight: $0[1], bias: $0[2]) }
        GradCheck.checkJVP([x, rng.normal([4])]) { Tensor.rmsNorm($0[0], weight: $0[1]) }
        GradCheck.checkJVP([x]) { $0[0].l2Normalized().permuted([1, 0]).slice(axis: 0, 1, 3) }
        GradCheck.checkJVP([x]) { Tensor.crossEntropy($0[0], targets: [0, 3, -100]) }
        GradCheck.checkJVP([x, rng.normal([2, 4])]) { Tensor.concat([$0[0], $0[1]], axis: 0).indexSelect(axis: 0, [4, 1]) }
    }

    func testJVPThroughDiTBlock() {
        let dim = 16, B = 2, T = 4
        let dit = DiTBlock(dim, heads: 2, condDim: 8, contextDim: 12, norm: .rmsNorm, ffn: .swiglu, rng: &rng)
        for p in dit.adaLN.parameters() { p.assign(rng.normal(p.shape, std: 0.2)) }   // non-zero gates
        let rope = RoPE.grid2D(rows: 2, cols: 2, headDim: 8)
        let x = rng.normal([B, T, dim]), c = rng.normal([B, 8]), ctx = rng.normal([B, 3, 12])
        // Tangent along every input (as sCM's d/dt of the student output moves x_t and t together).
        GradCheck.checkJVP([x, c, ctx]) { dit($0[0], cond: $0[1], context: $0[2], rope: rope) }
        // Also with the LayerNorm/GELU variant.
        let dit2 = DiTBlock(dim, heads: 4, condDim: 8, rng: &rng)
        for p in dit2.adaLN.parameters() { p.assign(rng.normal(p.shape, std: 0.2)) }
        GradCheck.checkJVP([x, c]) { dit2($0[0], cond: $0[1], mask: .causal) }
    }

    func testTimestepEmbeddingDerivativeAlongT() {
        // d/dt of a DiT conditioned on t, as sCM / MeanFlow need (tangent on t only).
        let temb = TimestepEmbedding(16, frequencyDim: 8, rng: &rng)
        let dit = DiTBlock(16, heads: 2, condDim: 16, rng: &rng)
        for p in dit.adaLN.parameters() { p.assign(rng.normal(p.shape, std: 0.2)) }
        let x = rng.normal([2, 3, 16]), t = Tensor([0.3, 0.8], shape: [2])
        GradCheck.checkJVP([x, t]) { dit($0[0], cond: temb($0[1])) }
        GradCheck.check([t, temb.mlp.fc1.weight]) { temb($0[0]) }
        let e = TimestepEmbedding.sinusoidal(Tensor([0], shape: [1]), dim: 4)
        XCTAssertEqual(e.array, [1, 1, 0, 0])
    }

    func testJVPLinearity() {
        // J(2v) = 2 J(v), and the primal equals a plain forward.
        let lin = Linear(3, 2, rng: &rng)
        let x = rng.normal([4, 3]), v = rng.normal([4, 3])
        let (y1, t1) = jvp([x], [v]) { lin($0[0]).tanh() }
        let (_, t2) = jvp([x], [v * 2]) { lin($0[0]).tanh() }
        let y = lin(x).tanh()
        for i in 0..<y.count {
            XCTAssertEqual(y1.ptr[i], y.ptr[i], accuracy: 1e-6)
            XCTAssertEqual(t2.ptr[i], 2 * t1.ptr[i], accuracy: 1e-5)
        }
        XCTAssertNil(x.tangent)
    }
}
