import ComputeCore
import XCTest
@testable import FlowGen

final class FlowScheduleTests: XCTestCase {
    func testShiftFixesEndpointsIsMonotoneAndComposes() {
        for s: Float in [0.25, 0.5, 1, 2, 3] {
            XCTAssertEqual(FlowSchedule.shift(0, s), 0)
            XCTAssertEqual(FlowSchedule.shift(1, s), 1, accuracy: 1e-6)
            var prev: Float = -1
            for k in 0...100 {
                let t = Float(k) / 100, v = FlowSchedule.shift(t, s)
                XCTAssertGreaterThan(v, prev); prev = v
                if s > 1 && k > 0 && k < 100 { XCTAssertGreaterThan(v, t) }   // toward noise
                if s < 1 && k > 0 && k < 100 { XCTAssertLessThan(v, t) }      // toward data
                if s == 1 { XCTAssertEqual(v, t, accuracy: 1e-7) }
                XCTAssertEqual(FlowSchedule.shift(FlowSchedule.shift(t, s), 1.5), FlowSchedule.shift(t, s * 1.5), accuracy: 1e-5)
                XCTAssertEqual(FlowSchedule.shift(FlowSchedule.shift(t, s), 1 / s), t, accuracy: 1e-5)  // inverse
            }
        }
        // Hand value: s = 3, t = 0.5 -> 1.5 / 2 = 0.75. Resolution rule: 8x8 tokens x 4 ch -> sqrt(256/4096).
        XCTAssertEqual(FlowSchedule.shift(0.5, 3), 0.75, accuracy: 1e-7)
        XCTAssertEqual(FlowSchedule.shiftFactor(tokens: 64, channels: 4), 0.25, accuracy: 1e-7)
        XCTAssertEqual(FlowSchedule.shiftFactor(tokens: 256, channels: 16), 1, accuracy: 1e-7)
    }

    func testGridRunsFromNoiseToDataAndTrainingTStaysInside() {
        let g = FlowSchedule.grid(steps: 4, shift: 3)
        XCTAssertEqual(g.count, 5)
        XCTAssertEqual(g.first, 1); XCTAssertEqual(g.last, 0)
        XCTAssertEqual(g[2], FlowSchedule.shift(0.5, 3))
        for i in 1..<g.count { XCTAssertLessThan(g[i], g[i - 1]) }
        XCTAssertEqual(FlowSchedule.grid(steps: 1, shift: 1), [1, 0])
        for n: Float in [-30, -1, 0, 1, 30] {
            let t = FlowSchedule.sampleT(n, mean: 0.5, std: 1.25, shift: 2)
            XCTAssertTrue(t > 0 && t < 1, "\(t)")
        }
        // Logit-normal median: n = 0 gives sigmoid(mean).
        XCTAssertEqual(FlowSchedule.sampleT(0, mean: 0.5, std: 1.25, shift: 1), 1 / (1 + expf(-0.5)), accuracy: 1e-6)
    }

    /// Uniform t (RecTok's generator): t = shift(u, s) inside (0, 1); the option is recorded only when
    /// set, so configurations from before it keep their JSON (and the report caches their hash).
    func testUniformTimeSamplingAndItsRecord() throws {
        XCTAssertEqual(FlowSchedule.sampleUniformT(0.5, shift: 1), 0.5)
        XCTAssertEqual(FlowSchedule.sampleUniformT(0.5, shift: 0.25), FlowSchedule.shift(0.5, 0.25))
        XCTAssertEqual(FlowSchedule.sampleUniformT(0, shift: 2), 1e-5)
        XCTAssertEqual(FlowSchedule.sampleUniformT(1, shift: 2), 1 - 1e-5)
        var c = try FlowGenPresets.resolve("flowgen-xs", grid: 8, channels: 4)
        XCTAssertNil(c.train.timeSampling)
        XCTAssertFalse(try c.json().contains("timeSampling"))
        c.train.timeSampling = .uniform
        let json = try c.json()
        XCTAssertTrue(json.contains("\"timeSampling\":\"uniform\"") || json.contains("\"timeSampling\" : \"uniform\""), json)
        XCTAssertEqual(try FlowGenConfig.from(json: try c.json()).train.timeSampling, .uniform)
    }

    func testInterpolationAndGuidanceByHand() {
        let x0 = Tensor([1, 2, 3, 4], shape: [2, 2]), eps = Tensor([-1, 0, 1, 2], shape: [2, 2])
        // Row 0 at t = 0.25: 0.75·x0 + 0.25·eps; row 1 at t = 1: eps.
        XCTAssertEqual(FlowSchedule.interpolate(x0, eps, t: [0.25, 1]).array, [0.5, 1.5, 1, 2])
        // v = vu + w (vc - vu): vc = [1, 2, 0], vu = [0.5, -1, 4], w = 3 -> [2, 8, -8]; w = 0 -> vu; w = 1 -> vc.
        let vc = Tensor([1, 2, 0], shape: [1, 3]), vu = Tensor([0.5, -1, 4], shape: [1, 3])
        XCTAssertEqual(FlowSchedule.guide(conditional: vc, unconditional: vu, scale: 3).array, [2, 8, -8])
        XCTAssertEqual(FlowSchedule.guide(conditional: vc, unconditional: vu, scale: 0).array, vu.array)
        XCTAssertEqual(FlowSchedule.guide(conditional: vc, unconditional: vu, scale: 1).array, vc.array)
    }

    func testNormalizerRoundTripAndStatistics() {
        var rng = RNG(seed: 1)
        let z = rng.normal([50, 4, 3]) * 3 + 2
        let n = LatentNormalizer.fit(z)
        XCTAssertEqual(n.mean.count, 3)
        let zn = n.normalize(z)
        let back = n.denormalize(zn)
        for (a, b) in zip(back.array, z.array) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        let refit = LatentNormalizer.fit(zn)
        for c in 0..<3 { XCTAssertEqual(refit.mean[c], 0, accuracy: 1e-4); XCTAssertEqual(refit.std[c], 1, accuracy: 1e-3) }
    }
}
