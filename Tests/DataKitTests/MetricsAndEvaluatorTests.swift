import Datasets
import Evaluation
import Models
import XCTest

final class MetricsAndEvaluatorTests: XCTestCase {
    func testPSNRAndSSIM() throws {
        let img = try FashionMNIST(part: .test).image(at: 0)
        XCTAssertEqual(try ImageQuality.psnr(img, img), .infinity)
        XCTAssertEqual(try ImageQuality.ssim(img, img), 1, accuracy: 1e-9)
        var rng = SeededRNG(seed: 1)
        var lightly = img, heavily = img
        for i in img.pixels.indices {
            lightly.pixels[i] = min(1, max(0, img.pixels[i] + 0.02 * rng.normal()))
            heavily.pixels[i] = min(1, max(0, img.pixels[i] + 0.3 * rng.normal()))
        }
        let pl = try ImageQuality.psnr(img, lightly), ph = try ImageQuality.psnr(img, heavily)
        XCTAssertGreaterThan(pl, ph)
        XCTAssertEqual(pl, 34, accuracy: 2)  // sigma 0.02 -> ~34 dB
        let sl = try ImageQuality.ssim(img, lightly), sh = try ImageQuality.ssim(img, heavily)
        XCTAssertGreaterThan(sl, 0.85)
        XCTAssertLessThan(sh, sl)
        // Constant offset: PSNR exactly 20 dB for an error of 0.1 everywhere.
        let gray = ImageBuffer(width: 16, height: 16, channels: 3, fill: 0.5)
        let shifted = ImageBuffer(width: 16, height: 16, channels: 3, fill: 0.6)
        XCTAssertEqual(try ImageQuality.psnr(gray, shifted), 20, accuracy: 1e-3)
        XCTAssertThrowsError(try ImageQuality.psnr(gray, img))
    }

    /// Linear probe on raw Fashion-MNIST pixels (a small subset) beats chance by far, and picks
    /// its regulariser on the validation split.
    func testLinearProbeOnPixels() throws {
        let ds = try FashionMNIST(part: .test, resolution: 14)
        let tr = SubsetDataset.random(ds, count: 1500, seed: 1)
        let trainIdx = try DatasetSplit.indices(of: tr, part: .train, validationFraction: 0.2, seed: 0)
        let valIdx = try DatasetSplit.indices(of: tr, part: .validation, validationFraction: 0.2, seed: 0)
        func rows(_ idx: [Int]) throws -> [[Float]] { try idx.map { try tr.image(at: $0).pixels } }
        let probe = try LinearProbe(trainX: try rows(trainIdx), trainY: trainIdx.map { tr.label(at: $0) },
                                    valX: try rows(valIdx), valY: valIdx.map { tr.label(at: $0) }, classes: 10,
                                    lambdas: [1e-3, 1e-1], iterations: 150)
        XCTAssertGreaterThan(probe.result.validationAccuracy, 0.7)
        XCTAssertTrue([1e-3, 1e-1].contains(probe.result.lambda))
        let held = SubsetDataset.random(try FashionMNIST(part: .train, resolution: 14), count: 300, seed: 9)
        let acc = probe.accuracy(try (0..<300).map { try held.image(at: $0).pixels }, (0..<300).map { held.label(at: $0) })
        XCTAssertGreaterThan(acc, 0.65)
    }

    /// Zero-shot machinery with MiniLM as the text side: an oracle image embedding (the text
    /// embedding of the item's class word) scores near 100 %, a constant one scores at chance.
    func testZeroShotWithTextEncoder() throws {
        let enc = try MiniLMTests.encoder()
        let ds = SubsetDataset.random(try FashionMNIST(part: .test), count: 40, seed: 3)
        let zs = try ZeroShotClassifier(classNames: FashionMNIST.classes, templates: .photo) { enc.embed($0) }
        XCTAssertEqual(zs.classEmbeddings.count, 10)
        let oracle = try zs.accuracy(on: ds, indices: Array(0..<40), batchSize: 8) { imgs in
            // Stand-in image tower: look up each image's label via pixel identity in the subset.
            try imgs.map { img in
                let i = try (0..<ds.count).first { try ds.image(at: $0) == img }!
                return enc.embed("a photo of a \(FashionMNIST.classes[ds.label(at: i)])")
            }
        }
        XCTAssertGreaterThan(oracle, 0.95)
        let constant = try zs.accuracy(on: ds, indices: Array(0..<40)) { imgs in imgs.map { _ in enc.embed("a photo of a dress") } }
        XCTAssertLessThan(constant, 0.3)
    }
}
