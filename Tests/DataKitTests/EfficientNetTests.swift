import Datasets
import Evaluation
import Models
import XCTest

final class EfficientNetTests: XCTestCase {
    static var shared: EffNetFeatureExtractor?

    static func extractor() throws -> EffNetFeatureExtractor {
        if let e = shared { return e }
        let e = try EffNetFeatureExtractor(resolution: 224, path: try TestSupport.modelsDir() + "/efficientnet_lite0.safetensors")
        shared = e
        return e
    }

    func referenceImage(_ source: String) throws -> ImageBuffer {
        if source.hasPrefix("photo:") {
            return try PNGCodec.decode(path: try TestSupport.photo(String(source.dropFirst(6))))
        }
        if source.hasPrefix("emoji:") {
            let code = String(source.dropFirst(6))
            return try PNGCodec.decode(path: try EmojiDataset.defaultRoot() + "/assets/png/\(code).png")
        }
        let idx = Int(source.split(separator: ":")[1])!
        return try FashionMNIST(part: .test).image(at: idx)
    }

    /// Features of real images (photos, emoji, Fashion-MNIST) match the independent numpy float64 reference.
    func testFeaturesMatchNumpyReference() throws {
        let fx = try TestSupport.fixture("efficientnet_fixture.json")
        let cases = try XCTUnwrap(fx["cases"] as? [[String: Any]])
        let sources = cases.compactMap { $0["source"] as? String }
        XCTAssertTrue(sources.contains("photo:chelsea") && sources.contains("photo:coffee"), "fixture lacks the photos: \(sources)")
        let net = try Self.extractor()
        let images = try cases.map { try referenceImage($0["source"] as! String) }
        let feats = net.features(images)
        for (i, c) in cases.enumerated() {
            let ref = TestSupport.floats(c["features"])
            XCTAssertEqual(ref.count, 1280)
            let cos = TestSupport.cosine(feats[i], ref)
            let maxDiff = zip(feats[i], ref).map { abs($0 - $1) }.max()!
            let scale = ref.map(abs).max()!
            XCTAssertGreaterThan(cos, 0.99999, "\(c["source"]!)")
            XCTAssertLessThan(maxDiff, 1e-3 * max(1, scale), "\(c["source"]!) max abs diff \(maxDiff)")
        }
    }

    /// The lemon and orange emoji are classified as ImageNet "lemon" (951) and "orange" (950).
    func testTopImageNetClass() throws {
        let fx = try TestSupport.fixture("efficientnet_fixture.json")
        let cases = try XCTUnwrap(fx["cases"] as? [[String: Any]])
        let net = try Self.extractor()
        let lemon = try referenceImage("emoji:1F34B")
        let orange = try referenceImage("emoji:1F34A")
        let logits = net.logits([lemon, orange])
        XCTAssertEqual(logits[0].indices.max { logits[0][$0] < logits[0][$1] }, 951)
        XCTAssertEqual(logits[1].indices.max { logits[1][$0] < logits[1][$1] }, 950)
        let refTop = (cases[0]["top5"] as! [Int])[0]
        XCTAssertEqual(refTop, 951)
    }

    /// Real photos (scikit-image data): the tabby cat is a cat class and the coffee cup is
    /// espresso/cup, in Swift and in the numpy reference, and Swift's logits of the reference top-5 match it.
    func testTopImageNetClassOfPhotos() throws {
        let fx = try TestSupport.fixture("efficientnet_fixture.json")
        let cases = try XCTUnwrap(fx["cases"] as? [[String: Any]])
        let expected: [(String, Set<Int>)] = [
            ("photo:chelsea", [281, 282, 285]),  // tabby, tiger cat, Egyptian cat
            ("photo:coffee", [967, 968]),  // espresso, cup
        ]
        let net = try Self.extractor()
        let logits = net.logits(try expected.map { try referenceImage($0.0) })
        for (i, (source, classes)) in expected.enumerated() {
            let ref = try XCTUnwrap(cases.first { $0["source"] as? String == source }, "fixture lacks \(source)")
            let refTop5 = try XCTUnwrap(ref["top5"] as? [Int])
            let top5 = logits[i].indices.sorted { logits[i][$0] > logits[i][$1] }.prefix(5)
            XCTAssertTrue(classes.contains(refTop5[0]), "\(source): reference top-1 \(refTop5[0]) not in \(classes)")
            XCTAssertTrue(classes.contains(top5.first!), "\(source): Swift top-1 \(top5.first!) not in \(classes)")
            XCTAssertEqual(top5.first, refTop5[0], source)
            let refLogits = TestSupport.floats(ref["top5_logits"])
            for (c, want) in zip(refTop5, refLogits) {
                XCTAssertEqual(logits[i][c], want, accuracy: 1e-2 * max(1, abs(want)), "\(source) logit of class \(c)")
            }
        }
    }

    /// Head feature maps average to the pooled features; stage shapes follow the strides.
    func testFeatureMaps() throws {
        let fx = try EffNetFeatureExtractor(resolution: 64, path: try TestSupport.modelsDir() + "/efficientnet_lite0.safetensors")
        let imgs = try EmojiDataset().images(at: [0, 5])
        let pooled = fx.features(imgs)
        let head = try fx.featureMaps(imgs, stage: 8)
        XCTAssertEqual([head.channels, head.height, head.width], [1280, 2, 2])
        for b in 0..<2 { for c in stride(from: 0, to: 1280, by: 97) {
            let m = (0..<4).map { head.maps[b][c * 4 + $0] }.reduce(0, +) / 4
            XCTAssertEqual(m, pooled[b][c], accuracy: 1e-4)
        } }
        let s2 = try fx.featureMaps(imgs, stage: 2)
        XCTAssertEqual([s2.channels, s2.height, s2.width], [24, 16, 16])
        XCTAssertThrowsError(try fx.featureMaps(imgs, stage: 9)) { XCTAssertTrue("\($0)".contains("stage")) }
    }
}
