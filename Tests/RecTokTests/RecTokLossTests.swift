import ComputeCore
import FlowGen
import Glibc
import XCTest
@testable import RecTok

final class RecTokLossTests: XCTestCase {
    func testKLAgainstHandComputation() {
        // Two images, one token, two channels: 0.5 Σ(μ² + e^lv - 1 - lv) / B.
        // image 0: μ = (1, 0), lv = (0, ln 2): 0.5·[(1 + 1 - 1 - 0) + (0 + 2 - 1 - ln 2)] = 0.5·(2 - ln 2)
        // image 1: μ = (0, -2), lv = (-1, 0): 0.5·[(e^-1 - 1 + 1) + (4 + 1 - 1 - 0)] = 0.5·(e^-1 + 4)
        let mean = Tensor([1, 0, 0, -2], shape: [2, 1, 2])
        let logVar = Tensor([0, logf(2), -1, 0], shape: [2, 1, 2])
        let expected = (0.5 * (2 - logf(2)) + 0.5 * (expf(-1) + 4)) / 2
        XCTAssertEqual(RecTokLosses.kl(mean: mean, logVar: logVar).item, expected, accuracy: 1e-6)
        // The standard normal posterior has zero KL.
        XCTAssertEqual(RecTokLosses.kl(mean: Tensor.zeros([3, 4, 2]), logVar: Tensor.zeros([3, 4, 2])).item, 0)
    }

    func testSemanticLossAgainstHandComputation() {
        // Tokens: identical (1 - cos = 0), orthogonal (1), opposite (2), 45° apart (1 - 1/√2) -> mean.
        let pred = Tensor([1, 0, 0, 1, 3, 4, 1, 0], shape: [1, 4, 2])
        let teacher = Tensor([2, 0, 5, 0, -6, -8, 1, 1], shape: [1, 4, 2])
        let expected: Float = (0 + 1 + 2 + (1 - 1 / sqrtf(2))) / 4
        XCTAssertEqual(RecTokLosses.semantic(pred, teacher: teacher).item, expected, accuracy: 1e-6)
        // Scale-invariant per token.
        XCTAssertEqual(RecTokLosses.semantic(pred * 7, teacher: teacher).item, expected, accuracy: 1e-6)
    }

    func testSampleAndLossGradientsMatchFiniteDifferences() {
        var rng = RNG(seed: 11)
        let eps = rng.normal([2, 3, 2])
        // z = μ + e^(lv/2) ε: with μ = 1 and lv = 2 ln 3 it is 1 + 3ε.
        let z = RecTokLosses.sample(mean: Tensor.ones([2, 3, 2]), logVar: Tensor.full([2, 3, 2], 2 * logf(3)), noise: eps)
        XCTAssertLessThan(RecTokFixtures.maxDiff(z.array, eps.array.map { 1 + 3 * $0 }), 1e-5)
        let w = rng.normal([2, 3, 2])
        FiniteDifference.check([rng.normal([2, 3, 2]), rng.normal([2, 3, 2], std: 0.5)]) { i in
            (RecTokLosses.sample(mean: i[0], logVar: i[1], noise: eps) * w).sum()
        }
        FiniteDifference.check([rng.normal([2, 3, 2]), rng.normal([2, 3, 2], std: 0.5)]) { i in RecTokLosses.kl(mean: i[0], logVar: i[1]) }
        let target = rng.normal([2, 3, 4])
        FiniteDifference.check([rng.normal([2, 3, 4])]) { i in RecTokLosses.semantic(i[0], teacher: target) }
    }

    func testNoiseScheduleIsFlowSchedule() throws {
        for s: Float in [0.25, 0.5, 1, 2] {
            for k in 0...20 {
                let u = Float(k) / 20
                XCTAssertEqual(RecTokLosses.noiseLevel(u: u, shift: s), FlowSchedule.shift(u, s))
            }
        }
        // The trainer's t follow shift(U(0,1), s) with s = sqrt(64·8/4096) ≈ 0.354: median shift(0.5, s)
        // = s / (1 + s) ≈ 0.261, far from an unshifted median of 0.5.
        let t = try RecTokFixtures.trainer(try RecTokFixtures.config(d: 8))
        let s = t.config.noiseShift
        XCTAssertEqual(s, FlowSchedule.shiftFactor(tokens: 64, channels: 8))
        var all: [Float] = []
        for step in 0..<100 { all += t.draws(step: step, batch: 8).t }
        all.sort()
        XCTAssertEqual(all[all.count / 2], FlowSchedule.shift(0.5, s), accuracy: 0.05)
        XCTAssertEqual(all[all.count / 4], FlowSchedule.shift(0.25, s), accuracy: 0.05)
        XCTAssertTrue(all.allSatisfy { $0 >= 0 && $0 < 1 })
    }

    func testForwardNoisesTheLatentWithFlowScheduleInterpolation() throws {
        let c = try RecTokFixtures.config(d: 8)
        let model = RecTokModel(c.model, teacherChannels: 16, seed: 4)
        var rng = RNG(seed: 9)
        let x = rng.uniform([2, c.model.tokens, c.model.patchDim])
        let mask = RecTokMask.random(batch: 2, tokens: c.model.tokens, ratio: 0.25, rng: &rng)
        let V = mask.visibleCount, d = c.model.latentChannels
        let e1 = rng.normal([2, V, d]), e2 = rng.normal([2, V, d])
        let f = withNoGrad { model.forward(x, mask: mask, posteriorNoise: e1, flowNoise: e2, t: [0.2, 0.9], noiseScale: 1) }
        XCTAssertEqual(f.xt.array, FlowSchedule.interpolate(f.z, e2, t: [0.2, 0.9]).array)
        XCTAssertEqual(f.z.array, RecTokLosses.sample(mean: f.mean, logVar: f.logVar, noise: e1).array)
        XCTAssertEqual(f.patches.shape, [2, c.model.tokens, c.model.patchDim])
        XCTAssertEqual(f.semantics?.shape, [2, c.model.tokens, 16])
        // The decoder reads x_t: other noise, other reconstruction.
        let g = withNoGrad { model.forward(x, mask: mask, posteriorNoise: e1, flowNoise: e2 * -1, t: [0.2, 0.9], noiseScale: 1) }
        XCTAssertGreaterThan(RecTokFixtures.maxDiff(f.patches.array, g.patches.array), 1e-5)
        // Without FSD there is no semantic head.
        XCTAssertNil(RecTokModel(c.model, teacherChannels: nil, seed: 4).semanticHead)
    }

    func testFeatureGridResizeByHand() {
        // One channel 4x4 -> 2x2: area means of the 2x2 blocks.
        let map: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
        XCTAssertEqual(FeatureGrid.tokens(map, channels: 1, height: 4, width: 4, grid: 2), [3.5, 5.5, 11.5, 13.5])
        // Two channels, token-major output; same grid = identity up to layout.
        XCTAssertEqual(FeatureGrid.tokens([1, 2, 3, 4, 10, 20, 30, 40], channels: 2, height: 2, width: 2, grid: 2),
                       [1, 10, 2, 20, 3, 30, 4, 40])
        // Upsampling 2x2 -> 4x4 bilinear (align_corners = false): the first row is 1, 1.25, 1.75, 2.
        let up = FeatureGrid.tokens([1, 2, 3, 4], channels: 1, height: 2, width: 2, grid: 4)
        XCTAssertEqual(Array(up[0..<4]), [1, 1.25, 1.75, 2])
        XCTAssertEqual(up[15], 4)
    }
}
