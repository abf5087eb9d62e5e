import ComputeCore
import Foundation
import XCTest
@testable import VTP

final class VTPCheckpointTests: XCTestCase {
    private func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vtp-ckpt-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.appendingPathComponent(name).path
    }

    func testSaveLoadGivesIdenticalEncodings() throws {
        let t = try VTPFixtures.trainer(try VTPFixtures.config(.vtp, steps: 2))
        try t.step()
        let path = tempPath("a.safetensors")
        try VTPCheckpoint.save(t, to: path)
        let images = try t.data.images(Array(t.data.validation.prefix(3)), size: 32)
        let direct = VTPTokenizer(model: t.model, config: t.config)
        let loaded = try VTPTokenizer(checkpointPath: path)
        XCTAssertEqual(loaded.config, t.config)
        XCTAssertEqual(try loaded.encode(images).array, try direct.encode(images).array)
        XCTAssertEqual(try loaded.decode(try loaded.encode(images)), try direct.decode(try direct.encode(images)))
        XCTAssertEqual(try VTPCheckpoint.header(at: path).step, 1)
    }

    func testResumeContinuesTheSameRun() throws {
        let c = try VTPFixtures.config(.vtp, steps: 4)
        let full = try VTPFixtures.trainer(c)
        for _ in 0..<4 { try full.step() }

        let first = try VTPFixtures.trainer(c)
        for _ in 0..<2 { try first.step() }
        let path = tempPath("mid.safetensors")
        try VTPCheckpoint.save(first, to: path)
        let resumed = try VTPFixtures.trainer(c)
        try VTPCheckpoint.restore(resumed, from: path)
        XCTAssertEqual(resumed.stepIndex, 2)
        while !resumed.isFinished { try resumed.step() }

        let a = full.model.namedParameters(), b = resumed.model.namedParameters()
        for ((n, x), (_, y)) in zip(a, b) {
            let d = zip(x.array, y.array).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(d, 1e-4, "\(n) differs by \(d) after resume")
        }
        XCTAssertEqual(full.dinoCenter.count, resumed.dinoCenter.count)
    }

    func testTokenizerRejectsWrongSizes() throws {
        let t = try VTPFixtures.trainer(try VTPFixtures.config(.ae, steps: 1))
        let tok = VTPTokenizer(model: t.model, config: t.config)
        let small = try t.data.images([t.data.train[0]], size: 16)
        XCTAssertThrowsError(try tok.encode(small))
        XCTAssertThrowsError(try tok.decode(Tensor.zeros([1, 63, 4])))
    }
}
