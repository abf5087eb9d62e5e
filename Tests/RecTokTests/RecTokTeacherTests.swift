import ComputeCore
import Datasets
import Evaluation
import TestKit
import VTP
import XCTest
@testable import RecTok

final class RecTokTeacherTests: XCTestCase {
    /// The shipped teacher: EfficientNet-Lite0 stage-5 maps (112 channels) on the token grid.
    func testEfficientNetTeacherGivesGridFeatures() throws {
        let teacher: EffNetTeacher
        do { teacher = try EffNetTeacher(stage: 5, resolution: 64) } catch {
            throw TestRequirement.missing("EfficientNet-Lite0", hint: "run scripts/prepare-models (\(error))")
        }
        XCTAssertEqual(teacher.channels, 112)
        XCTAssertEqual(teacher.name, "efficientnet-lite0/stage5@64")
        let c = try RecTokFixtures.config()
        let data = try RecTokFixtures.data(c)
        let images = try data.images(Array(data.train.prefix(2)), size: 32)
        let f = try teacher.features(images, grid: 8)
        XCTAssertEqual(f.count, 2)
        XCTAssertEqual(f[0].count, 64 * 112)
        XCTAssertTrue(f[0].allSatisfy(\.isFinite))
        XCTAssertNotEqual(f[0], f[1])
        // Cached: a second request does not run the network again.
        let cache = RecTokTeacherCache(teacher: teacher, grid: 8)
        let a = try cache.tensor(indices: [data.train[0], data.train[1]], images: images)
        let b = try cache.tensor(indices: [data.train[1], data.train[0]], images: [images[1], images[0]])
        XCTAssertEqual(cache.computed, 2)
        XCTAssertEqual(a.shape, [2, 64, 112])
        XCTAssertEqual(Array(a.array[0..<(64 * 112)]), Array(b.array[(64 * 112)...]))
    }

    /// A trained VTP trunk as the teacher: its final-normed patch tokens, token-major, on the grid.
    func testVTPTrunkTeacherGivesTheTrunkTokens() throws {
        var vc = try VTPPresets.resolve("ae-fmnist32-xs")
        vc.model.imageSize = 16                      // a 4x4 trunk grid, resized to the 8x8 token grid
        let vtp = VTPModel(vc.model, seed: 3)
        let path = RecTokFixtures.tempPath(self, "vtp.safetensors")
        try Safetensors.write(vtp.namedParameters(), metadata: ["format": VTPCheckpoint.format, "config": try vc.json(), "step": "0"],
                              to: path)
        var c = try RecTokFixtures.config()
        c.teacher.kind = .vtpTrunk
        c.teacher.checkpoint = nil
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? MethodError)?.field, "teacher.checkpoint") }
        c.teacher.checkpoint = path
        let teacher = try c.makeTeacher()
        XCTAssertEqual(teacher.channels, vc.model.width)
        XCTAssertEqual(teacher.name, "vtp-trunk/ae-fmnist32-xs@vtp.safetensors")
        let data = try RecTokFixtures.data(c)
        let images = try data.images(Array(data.train.prefix(2)), size: 32)
        let f = try teacher.features(images, grid: 8)
        XCTAssertEqual(f.count, 2)
        XCTAssertEqual(f[0].count, 64 * vc.model.width)
        // Grid cell (0, 0) of the 8x8 grid samples trunk token (0, 0) of the 4x4 grid (bilinear, clamped corner).
        let x = try Patchify.patches(images.map { $0.resized(to: 16) }, patch: vc.model.patchSize)
        let tokens = withNoGrad { vtp.encoder(x, grid: vc.model.grid) }          // [2, 1 + 16, D]
        let D = vc.model.width
        XCTAssertLessThan(RecTokFixtures.maxDiff(Array(f[1][0..<D]), Array(tokens.array[((1 * 17) + 1) * D..<((1 * 17) + 2) * D])), 1e-5)
        // A trainer with this teacher sizes its semantic head to the trunk width.
        let t = try RecTokTrainer(config: c, data: data)
        XCTAssertEqual(t.model.semanticHead?.projOut.outFeatures, D)
    }

    /// Features are computed once per image and kept across runs in a content-addressed store.
    func testPrecomputedFeaturesAreStoredAndReused() throws {
        let c = try RecTokFixtures.config()
        let dir = TestRequirement.tempDir("rectok-store")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let store = EvaluationCache.directory(dir)
        let first = try RecTokFixtures.trainer(c)
        XCTAssertEqual(try first.prepareTeacher(store: store), 0)            // computed and saved
        XCTAssertEqual(first.teacher?.computed, 64)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).count, 1)
        let second = try RecTokFixtures.trainer(c)
        XCTAssertEqual(try second.prepareTeacher(store: store), 64)          // loaded
        XCTAssertEqual(second.teacher?.computed, 0)
        let idx = Array(first.data.train.prefix(4))
        let imgs = try first.data.images(idx, size: 32)
        XCTAssertEqual(try second.teacher!.tensor(indices: idx, images: imgs).array, try first.teacher!.tensor(indices: idx, images: imgs).array)
        XCTAssertEqual(second.teacher?.computed, 0)
        // Another teacher (other channels) has another key.
        var other = c
        other.teacher.projectionChannels = 8
        XCTAssertEqual(try RecTokFixtures.trainer(other).prepareTeacher(store: store), 0)
        // Training after loading uses the stored features, bit for bit like computing them.
        XCTAssertEqual(try first.step().metrics["loss_sem"], try second.step().metrics["loss_sem"])
    }

    /// Two joint steps with the shipped EfficientNet-Lite0 teacher (64 px input, stage 5: 4x4 maps
    /// upsampled to the 8x8 grid), so the default path runs end to end.
    func testTrainerRunsWithTheEfficientNetTeacher() throws {
        var c = try RecTokFixtures.config(steps: 2, decoderSteps: 0)
        c.teacher.kind = .efficientNetLite0
        c.teacher.resolution = 64
        let teacher: any RecTokTeacher
        do { teacher = try c.makeTeacher() } catch {
            throw TestRequirement.missing("EfficientNet-Lite0", hint: "run scripts/prepare-models (\(error))")
        }
        let t = try RecTokTrainer(config: c, data: try RecTokFixtures.data(c), teacher: teacher)
        XCTAssertEqual(t.model.semanticHead?.projOut.outFeatures, 112)
        let a = try t.step(), b = try t.step()
        XCTAssertTrue(a.metrics["loss_sem"]!.isFinite && b.metrics["loss_sem"]!.isFinite)
        XCTAssertGreaterThan(a.metrics["loss_sem"]!, 0.05)
        XCTAssertEqual(t.teacher?.computed, 16)
    }
}
