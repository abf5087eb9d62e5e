import ComputeCore
import FlowGen
import XCTest
@testable import RecTok

final class RecTokPresetTests: XCTestCase {
    func testPresetsResolveWithWidthFSDAndBudget() throws {
        XCTAssertEqual(RecTokPresets.names.count, 9)
        for name in RecTokPresets.names {
            for d in RecTokPresets.latentWidths {
                let c = try RecTokPresets.resolve(name, latentChannels: d)
                XCTAssertEqual(c.preset, name)
                XCTAssertEqual(c.model.latentChannels, d)
                XCTAssertTrue(c.fsd)
                XCTAssertEqual(c.loss.semanticWeight, 1)
                XCTAssertEqual(c.loss.klWeight, 1e-6)
                XCTAssertEqual(c.teacher.kind, .efficientNetLite0)
            }
        }
        let s = try RecTokPresets.resolve("rectok-fmnistc32-s", latentChannels: 32)
        XCTAssertEqual(s.train.dataset, "fmnist-color")
        XCTAssertEqual(s.model.grid, 8)
        XCTAssertEqual(s.modelName, "rectok-fmnistc32-s-d32-fsd")
        // FSD off: no semantic weight; the name says so.
        let off = try RecTokPresets.resolve("rectok-fmnistc32-s", latentChannels: 32, fsd: false)
        XCTAssertFalse(off.fsd)
        XCTAssertEqual(off.loss.semanticWeight, 0)
        XCTAssertEqual(off.modelName, "rectok-fmnistc32-s-d32-nofsd")
        // Budget multiplies both phases.
        let x3 = try RecTokPresets.resolve("rectok-emoji32-s", budget: 3)
        XCTAssertEqual(x3.train.steps, 3 * s.train.steps)
        XCTAssertEqual(x3.train.decoderSteps, 3 * s.train.decoderSteps)
        XCTAssertEqual(x3.budget, 3)
        XCTAssertEqual(x3.train.dataset, "emoji")
        // The recorded config round-trips through JSON.
        XCTAssertEqual(try RecTokConfig.from(json: try x3.json()), x3)
    }

    func testNoiseShiftIsTheGeneratorsResolutionRule() throws {
        for d in RecTokPresets.latentWidths {
            let c = try RecTokPresets.resolve("rectok-fmnistc32-s", latentChannels: d)
            XCTAssertEqual(c.noiseShift, FlowSchedule.shiftFactor(tokens: 64, channels: d))
        }
        // 8x8 tokens x 16 channels: sqrt(1024 / 4096) = 0.5 (s < 1 at this scale, METHODS.md §2).
        XCTAssertEqual(try RecTokPresets.resolve("rectok-fmnistc32-s", latentChannels: 16).noiseShift, 0.5, accuracy: 1e-7)
        var c = try RecTokPresets.resolve("rectok-fmnistc32-s")
        c.loss.shift = 2
        XCTAssertEqual(c.noiseShift, 2)
    }

    private func assertInvalid(_ field: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let e = error as? MethodError else { return XCTFail("\(error) is not a MethodError", file: file, line: line) }
            XCTAssertEqual(e.field, field, "\(e)", file: file, line: line)
        }
    }

    func testInvalidConfigsNameTheField() throws {
        assertInvalid("preset") { _ = try RecTokPresets.resolve("rectok-mnist-s") }
        assertInvalid("preset") { _ = try RecTokPresets.resolve("vtp-fmnist32-s") }
        assertInvalid("preset") { _ = try RecTokPresets.resolve("rectok-fmnist32-xl") }
        assertInvalid("model.latentChannels") { _ = try RecTokPresets.resolve("rectok-fmnist32-s", latentChannels: 0) }
        assertInvalid("model.latentChannels") { _ = try RecTokPresets.resolve("rectok-fmnist32-s", latentChannels: 300) }
        assertInvalid("budget") { _ = try RecTokPresets.resolve("rectok-fmnist32-s", budget: 0) }
        let ok = try RecTokPresets.resolve("rectok-fmnist32-xs")
        func invalid(_ field: String, _ change: (inout RecTokConfig) -> Void) {
            var c = ok
            change(&c)
            assertInvalid(field) { try c.validate() }
        }
        invalid("model.patchSize") { $0.model.patchSize = 5 }
        invalid("model.heads") { $0.model.heads = 3 }
        invalid("model.semanticWidth") { $0.model.semanticWidth = 20 }
        invalid("loss.semanticWeight") { $0.fsd = false }                  // λ_sem > 0 without a semantic head
        invalid("loss.maskRatioMax") { $0.loss.maskRatioMax = 1 }
        invalid("loss.maskRatioMin") { $0.loss.maskRatioMin = 0.5 }         // above maskRatioMax 0.4
        invalid("loss.klWeight") { $0.loss.klWeight = -1 }
        invalid("loss.shift") { $0.loss.shift = 0 }
        invalid("teacher.stage") { $0.teacher.stage = 9 }
        invalid("train.steps") { $0.train.steps = 0 }
        invalid("train.decoderSteps") { $0.train.decoderSteps = -1 }
        invalid("train.batchSize") { $0.train.batchSize = 0 }
        XCTAssertNoThrow(try ok.validate())
        // The message names the limit.
        var c = ok
        c.model.latentChannels = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("1...256"), "\($0)") }
    }
}
