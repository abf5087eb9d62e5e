import ComputeCore
import Datasets
import TestKit
import XCTest
@testable import RecTok

final class RecTokCheckpointTests: XCTestCase {
    func testSaveLoadGivesIdenticalEncodingsAndDecodings() throws {
        let t = try RecTokFixtures.trainer(try RecTokFixtures.config(d: 8, steps: 2, decoderSteps: 1))
        try t.step()
        let path = RecTokFixtures.tempPath(self, "a.safetensors")
        try RecTokCheckpoint.save(t, to: path)
        let header = try RecTokCheckpoint.header(at: path)
        XCTAssertEqual(header.step, 1)
        XCTAssertEqual(header.config, t.config)
        XCTAssertEqual(header.teacher, "patch-projection/16/p4/seed\(t.config.train.seed)")

        let images = try t.data.images(Array(t.data.validation.prefix(3)), size: 32)
        let direct = RecTokTokenizer(model: t.model, config: t.config)
        let loaded = try RecTokTokenizer(checkpointPath: path)
        XCTAssertEqual(loaded.latentShape, [8, 8, 8])
        let z = try direct.encode(images)
        XCTAssertEqual(z.shape, [3, 64, 8])
        XCTAssertEqual(try loaded.encode(images).array, z.array)
        XCTAssertEqual(try loaded.decode(z), try direct.decode(z))
        // Wrong sizes are rejected, naming the field.
        XCTAssertThrowsError(try loaded.decode(Tensor.zeros([1, 64, 4]))) { XCTAssertEqual(($0 as? MethodError)?.field, "latents") }
        let small = try t.data.images([t.data.train[0]], size: 16)
        XCTAssertThrowsError(try loaded.encode(small)) { XCTAssertEqual(($0 as? MethodError)?.field, "images[0]") }
    }

    /// Save mid-run (in the joint phase and in the decoder phase), restore into a fresh trainer,
    /// finish: every parameter equals the uninterrupted run's.
    func testResumeContinuesTheSameRunAcrossPhases() throws {
        let c = try RecTokFixtures.config(steps: 4, decoderSteps: 3)
        let full = try RecTokFixtures.trainer(c)
        var fullLosses: [Double] = []
        while !full.isFinished { fullLosses.append(try full.step().metrics["loss"]!) }

        for stop in [2, 5] {
            let first = try RecTokFixtures.trainer(c)
            for _ in 0..<stop { try first.step() }
            let path = RecTokFixtures.tempPath(self, "mid\(stop).safetensors")
            try RecTokCheckpoint.save(first, to: path)
            let resumed = try RecTokFixtures.trainer(c)
            try RecTokCheckpoint.restore(resumed, from: path)
            XCTAssertEqual(resumed.stepIndex, stop)
            var losses: [Double] = []
            while !resumed.isFinished { losses.append(try resumed.step().metrics["loss"]!) }
            XCTAssertEqual(losses, Array(fullLosses[stop...]), "losses after resuming at \(stop)")
            for ((n, x), (_, y)) in zip(full.model.namedParameters(), resumed.model.namedParameters()) {
                XCTAssertEqual(x.array, y.array, "\(n) differs after resuming at \(stop)")
            }
        }
        // A checkpoint of another model is refused.
        let other = try RecTokFixtures.trainer(try RecTokFixtures.config(d: 16, steps: 4, decoderSteps: 3))
        let path = RecTokFixtures.tempPath(self, "d8.safetensors")
        try RecTokCheckpoint.save(full, to: path)
        XCTAssertThrowsError(try RecTokCheckpoint.restore(other, from: path))
    }
}
