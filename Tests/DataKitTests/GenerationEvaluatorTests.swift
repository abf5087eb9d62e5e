import ComputeCore
import Datasets
import Evaluation
import XCTest

/// The shared generation evaluator (Shared/Evaluation/Generation): the real-trained class judge,
/// the hue check, gFD against cached reference statistics, bootstrap spreads, and field errors.
final class GenerationEvaluatorTests: XCTestCase {
    /// One quick evaluator for the class (32 px FD, 120 reference images, tiny judge), cached in a temp dir.
    static let cacheDir = FileManager.default.temporaryDirectory.appendingPathComponent("geneval-tests-\(UUID().uuidString)")
    nonisolated(unsafe) static var shared: GenerationEvaluator?

    func evaluator() throws -> GenerationEvaluator {
        if let e = Self.shared { return e }
        let e = try GenerationEvaluator(options: .quick, cache: .directory(Self.cacheDir),
                                        effnetPath: try TestSupport.modelsDir() + "/efficientnet_lite0.safetensors")
        Self.shared = e
        return e
    }

    override class func tearDown() { try? FileManager.default.removeItem(at: cacheDir) }

    func testClassifierLearnsRealImagesAboveChanceAndIsCached() throws {
        let train = try FashionMNISTColor(part: .train), test = try FashionMNISTColor(part: .test)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("geneval-judge-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try GarmentClassifier.trained(config: .tiny, plan: .quick, train: train, test: test, cache: .directory(dir))
        XCTAssertFalse(first.cached)
        XCTAssertEqual(first.trainImages, 480)
        XCTAssertEqual(first.testImages, 300)
        // Ten classes: chance is 0.1; 480 real images give a judge far above it on unseen test images.
        XCTAssertGreaterThan(first.testAccuracy, 0.5, "test accuracy \(first.testAccuracy)")
        XCTAssertGreaterThan(first.validationAccuracy, 0.5, "validation accuracy \(first.validationAccuracy)")
        let again = try GarmentClassifier.trained(config: .tiny, plan: .quick, train: train, test: test, cache: .directory(dir))
        XCTAssertTrue(again.cached)
        XCTAssertEqual(again.testAccuracy, first.testAccuracy)
        let imgs = try test.images(at: Array(0..<50))
        XCTAssertEqual(again.classifier.predict(imgs), first.classifier.predict(imgs))
        // A tint never changes the judge's input (per-pixel max over channels).
        let gray = try FashionMNIST(part: .test, resolution: 32, rgb: true).images(at: Array(0..<50))
        let x1 = first.classifier.input(imgs), x0 = first.classifier.input(gray)
        XCTAssertEqual(x1.shape, [50, 1, 32, 32])
        XCTAssertLessThan(zip(x1.array, x0.array).map { abs($0 - $1) }.max()!, 0.11)
    }

    func testHueAccuracyOnSyntheticTintedImagesIsOne() throws {
        // A gray garment-like blob (a bright disc with a soft edge) tinted with every palette colour.
        var images: [ImageBuffer] = [], attrs: [PromptAttributes] = []
        var rng = SeededRNG(seed: 3)
        for k in ColorPalette.colors.indices {
            for _ in 0..<5 {
                let rgb = ColorPalette.colors[k].rgb
                let cx = Float(10 + rng.uniform() * 12), cy = Float(10 + rng.uniform() * 12), r = Float(5 + rng.uniform() * 6)
                var px = [Float](repeating: 0, count: 32 * 32 * 3)
                for y in 0..<32 { for x in 0..<32 {
                    let d = ((Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy)).squareRoot()
                    let v = max(0, min(1, (r - d) / 2)) * (0.5 + 0.5 * rng.uniform())
                    px[(y * 32 + x) * 3] = v * rgb.0; px[(y * 32 + x) * 3 + 1] = v * rgb.1; px[(y * 32 + x) * 3 + 2] = v * rgb.2
                } }
                images.append(try ImageBuffer(width: 32, height: 32, channels: 3, pixels: px))
                attrs.append(PromptAttributes(classIndex: 0, colorIndex: k))
            }
        }
        let m = try evaluator().evaluate(images, attributes: attrs)
        XCTAssertEqual(m.colorAccuracy.value, 1, accuracy: 1e-12)
        XCTAssertEqual(m.colorAccuracy.low, 1, accuracy: 1e-12)
        XCTAssertEqual(m.colorless, 0)
        XCTAssertEqual(m.images, 40)
        // A wrong colour request for every image scores 0.
        let wrong = attrs.map { PromptAttributes(classIndex: 0, colorIndex: ($0.colorIndex + 3) % 8) }
        XCTAssertEqual(try evaluator().evaluate(images, attributes: wrong).colorAccuracy.value, 0)
    }

    func testGFDOfTheReferenceItselfIsZeroAndOfAShiftedSetPositive() throws {
        let ev = try evaluator()
        let test = try FashionMNISTColor(part: .test)
        let n = ev.reference.statistics.count
        XCTAssertEqual(n, 120)
        let real = try test.images(at: Array(0..<n))
        let attrs = (0..<n).map { i -> PromptAttributes in let a = test.attributes(at: i); return PromptAttributes(classIndex: a.classIndex, colorIndex: a.colorIndex) }
        let same = try ev.evaluate(real, attributes: attrs)
        XCTAssertGreaterThan(same.gFD.std, 0)
        // Real test images with their own attributes: colour is right (hue check), class mostly right.
        XCTAssertGreaterThan(same.colorAccuracy.value, 0.97)
        XCTAssertGreaterThan(same.classAccuracy.value, 0.5)
        XCTAssertLessThanOrEqual(same.classAccuracy.low, same.classAccuracy.value)
        XCTAssertGreaterThanOrEqual(same.classAccuracy.high, same.classAccuracy.value)
        // The same garments shifted right by 6 px and dimmed: clearly farther from the reference.
        let shifted = try real.map { img -> ImageBuffer in
            var px = [Float](repeating: 0, count: img.pixels.count)
            for y in 0..<32 { for x in 6..<32 { for c in 0..<3 { px[(y * 32 + x) * 3 + c] = 0.6 * img[x - 6, y, c] } } }
            return try ImageBuffer(width: 32, height: 32, channels: 3, pixels: px)
        }
        let far = try ev.evaluate(shifted, attributes: attrs)
        XCTAssertGreaterThan(far.gFD.value, 1, "shifted set gFD \(far.gFD)")
        XCTAssertGreaterThan(far.gFD.value, 10 * (same.gFD.value + same.gFD.std))
        // The reference set scored against itself: FD ~ 0 (round-off of the matrix square roots only).
        XCTAssertLessThan(same.gFD.value, 1e-3 * far.gFD.value, "FD of the reference set with itself: \(same.gFD)")
        // The reference statistics came from the cache on a second construction.
        var logs: [String] = []
        _ = try GenerationEvaluator(options: .quick, cache: .directory(Self.cacheDir),
                                    effnetPath: try TestSupport.modelsDir() + "/efficientnet_lite0.safetensors", log: { logs.append($0) })
        XCTAssertTrue(logs.contains { $0.contains("gFD reference") && $0.contains("from the cache") }, "\(logs)")
        XCTAssertTrue(logs.contains { $0.contains("garment classifier") && $0.contains("from the cache") }, "\(logs)")
    }

    func testReferenceStatisticsRoundTripInFullPrecision() throws {
        var rng = SeededRNG(seed: 9)
        let feats = (0..<40).map { _ in (0..<6).map { _ in rng.normal() * 1.7 + 0.3 } }
        let ref = try FrechetReference(try GaussianStatistics(features: feats))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ref-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ref.save(to: path)
        let back = try FrechetReference(path: path)
        XCTAssertEqual(back.statistics.count, 40)
        for (a, b) in zip(back.statistics.covariance, ref.statistics.covariance) { XCTAssertEqual(a, b, accuracy: 1e-12 * max(1, abs(b))) }
        let other = try GaussianStatistics(features: feats.map { $0.map { $0 + 0.5 } })
        XCTAssertEqual(try back.distance(to: other), try FrechetDistance.distance(ref.statistics, other), accuracy: 1e-9)
        XCTAssertEqual(try back.distance(to: other), 6 * 0.25, accuracy: 1e-6)    // a pure mean shift: |0.5|^2 x 6
    }

    func testBootstrapIntervalsAndBalancedPrompts() throws {
        let ones = Bootstrap.mean([Double](repeating: 1, count: 50))
        XCTAssertEqual([ones.value, ones.low, ones.high], [1, 1, 1])
        let half = Bootstrap.mean((0..<400).map { Double($0 % 2) }, replicates: 2000, seed: 1)
        XCTAssertEqual(half.value, 0.5)
        // Binomial standard error sqrt(0.25 / 400) = 0.025: the 95 % interval is about +-0.049.
        XCTAssertEqual(half.high - half.low, 2 * 1.96 * 0.025, accuracy: 0.015)
        XCTAssertEqual(half.std, 0.025, accuracy: 0.004)

        let prompts = GenerationPrompts.fmnistColor(count: 160, seed: 2)
        XCTAssertEqual(prompts.count, 160)
        let counts = Dictionary(grouping: prompts, by: \.attributes).mapValues(\.count)
        XCTAssertEqual(counts.count, 80)
        XCTAssertTrue(counts.values.allSatisfy { $0 == 2 })
        for p in prompts {
            XCTAssertTrue(ColorPalette.colors[p.attributes.colorIndex].synonyms.contains { p.text.contains($0) }, p.text)
            XCTAssertTrue(FashionMNISTColor.classSynonyms[p.attributes.classIndex].contains { p.text.contains($0) }, p.text)
        }
        XCTAssertEqual(GenerationPrompts.fmnistColor(count: 160, seed: 2), prompts)
        let heldOut = GenerationPrompts.fmnistColor(count: 20, seed: 2, heldOutWording: true)
        XCTAssertTrue(heldOut.allSatisfy { $0.text.hasPrefix("an image of") || $0.text.contains("colored") })
    }

    func testInvalidInputsNameTheField() throws {
        let ev = try evaluator()
        let img = ImageBuffer(width: 32, height: 32, channels: 3, fill: 0.5)
        let a = PromptAttributes(classIndex: 1, colorIndex: 1)
        XCTAssertThrowsError(try ev.evaluate([img], attributes: [a])) { XCTAssertTrue("\($0)".contains("images"), "\($0)") }
        XCTAssertThrowsError(try ev.evaluate([img, img], attributes: [a])) { XCTAssertTrue("\($0)".contains("attributes"), "\($0)") }
        XCTAssertThrowsError(try ev.evaluate([img, img], attributes: [a, PromptAttributes(classIndex: 10, colorIndex: 0)])) {
            XCTAssertTrue("\($0)".contains("attributes[1].classIndex"), "\($0)")
        }
        XCTAssertThrowsError(try ev.evaluate([img, img], attributes: [PromptAttributes(classIndex: 0, colorIndex: 8), a])) {
            XCTAssertTrue("\($0)".contains("attributes[0].colorIndex"), "\($0)")
        }
    }

    /// A gFD-only evaluator (emoji: no test split, no attribute judges): reference = the whole
    /// dataset (or its first `referenceImages`), accuracies absent from the metrics, attributes refused.
    func testGFDOnlyEvaluatorOnEmoji() throws {
        var o = GenerationEvaluator.Options.gFDOnly("emoji", base: .quick)
        o.referenceImages = 60
        let ev = try GenerationEvaluator(options: o, cache: .directory(Self.cacheDir),
                                         effnetPath: try TestSupport.modelsDir() + "/efficientnet_lite0.safetensors")
        XCTAssertNil(ev.judge)
        let emoji = try EmojiDataset(resolution: 32)
        let same = try ev.evaluate(try emoji.images(at: Array(0..<60)), attributes: nil)
        let other = try ev.evaluate(try emoji.images(at: Array(1000..<1060)), attributes: nil)
        XCTAssertEqual(same.referenceImages, 60)
        XCTAssertEqual(same.referenceDataset, "emoji")
        XCTAssertLessThan(same.gFD.value, 1e-3 * other.gFD.value, "the reference against itself \(same.gFD) vs other emoji \(other.gFD)")
        XCTAssertFalse(same.hasAccuracy)
        XCTAssertNil(same.dictionary["class_accuracy"])
        XCTAssertTrue(same.dictionary.values.allSatisfy(\.isFinite), "no NaN reaches the run audit")
        XCTAssertTrue(same.summary.contains("gFD only"), same.summary)
        let a = PromptAttributes(classIndex: 1, colorIndex: 1)
        let img = ImageBuffer(width: 32, height: 32, channels: 3, fill: 0.5)
        XCTAssertThrowsError(try ev.evaluate([img, img], attributes: [a, a])) { XCTAssertTrue("\($0)".contains("attributes"), "\($0)") }
        XCTAssertThrowsError(try evaluator().evaluate([img, img], attributes: nil)) { XCTAssertTrue("\($0)".contains("attributes"), "\($0)") }
        // Caption prompts: every item once before any repeats, deterministic.
        let caps = GenerationPrompts.captions(of: emoji, count: emoji.count + 5, seed: 1)
        XCTAssertEqual(caps.count, emoji.count + 5)
        XCTAssertEqual(caps, GenerationPrompts.captions(of: emoji, count: emoji.count + 5, seed: 1))
        XCTAssertTrue(caps.allSatisfy { !$0.isEmpty })
    }
}
