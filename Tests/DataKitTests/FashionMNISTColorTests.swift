import Datasets
import XCTest

final class FashionMNISTColorTests: XCTestCase {
    func testTintCaptionsAndAttributesAreDeterministic() throws {
        let ds = try XCTUnwrap(try DatasetCatalog.open("fmnist-color-test") as? FashionMNISTColor)
        let again = try FashionMNISTColor(part: .test)
        XCTAssertEqual(ds.count, 10000)
        XCTAssertEqual(ds.name, "fmnist-color-test")
        let img = try ds.image(at: 0)
        XCTAssertEqual([img.width, img.height, img.channels], [32, 32, 3])
        XCTAssertEqual(try again.image(at: 0), img)
        XCTAssertEqual((0..<200).map { again.colorIndex(at: $0) }, (0..<200).map { ds.colorIndex(at: $0) })
        // First test item is an ankle boot; its canonical caption names its colour.
        let (cls, col) = ds.attributes(at: 0)
        XCTAssertEqual(cls, 9)
        let colorName = ColorPalette.colors[col].name
        XCTAssertEqual(ds.caption(at: 0), FashionMNISTColor.render("a {color} {class}", color: colorName, garment: "ankle boot"))
        XCTAssertTrue(ds.caption(at: 0).hasSuffix("\(colorName) ankle boot"), ds.caption(at: 0))
        let caps = ds.captions(at: 0)
        XCTAssertEqual(caps.count, 6 * 2 * 2)
        XCTAssertEqual(Set(caps).count, caps.count)
        XCTAssertTrue(caps.contains { $0.contains(ColorPalette.colors[col].synonyms[1]) && $0.contains("boot") }, "\(caps)")
        XCTAssertTrue(caps.allSatisfy { $0.contains("boot") })
        // Articles agree with the next word; held-out wording never appears in training captions.
        XCTAssertEqual(FashionMNISTColor.prompt(classIndex: 8, colorIndex: 1), "an orange bag")
        XCTAssertEqual(FashionMNISTColor.render("a {class} in {color}", color: "red", garment: "ankle boot"), "an ankle boot in red")
        XCTAssertFalse(caps.contains { $0.hasPrefix("an image of") || $0.contains("colored") })
    }

    func testColoursAreBalancedAndTheHueCheckRecoversThem() throws {
        let ds = try FashionMNISTColor(part: .train)
        var counts = [Int](repeating: 0, count: ColorPalette.colors.count)
        for i in 0..<8000 { counts[ds.colorIndex(at: i)] += 1 }
        XCTAssertTrue(counts.allSatisfy { $0 > 850 && $0 < 1150 }, "colour counts \(counts)")
        // The hue classifier used by evaluation reads the tint back from real images.
        var correct = 0
        for i in 0..<400 where ColorPalette.classify(try ds.image(at: i)) == ds.colorIndex(at: i) { correct += 1 }
        XCTAssertGreaterThanOrEqual(correct, 396, "hue check right on \(correct)/400 real images")
        // Black-on-black has no hue; palette hues are pairwise at least 25 degrees apart.
        XCTAssertNil(ColorPalette.classify(ImageBuffer(width: 4, height: 4, channels: 3, fill: 0)))
        let hues = ColorPalette.colors.map(\.hue)
        for a in hues.indices { for b in hues.indices where a < b { XCTAssertGreaterThan(ColorPalette.hueDistance(hues[a], hues[b]), 25) } }
        XCTAssertTrue(DatasetCatalog.list().contains { $0.name == "fmnist-color" && $0.available && $0.count == 60000 })
    }
}

final class PNGTextTests: XCTestCase {
    /// Parameters written into a PNG read back exactly, the image still decodes, and a UTF-8
    /// prompt takes an iTXt chunk. The CRC matches zlib's check value for "123456789".
    func testTextChunksRoundTrip() throws {
        let img = ImageBuffer(width: 3, height: 2, channels: 3, fill: 0.5)
        let png = try PNGCodec.encode(img)
        let entries: [(key: String, value: String)] = [("prompt", "a red dress"), ("seed", "42"), ("guidance", "3.0"),
                                                       ("caption", "ein rotes Kleid für 20 €")]
        let tagged = try PNGText.insert(entries, into: png)
        let back = try PNGText.read(tagged)
        XCTAssertEqual(back.map(\.key), entries.map(\.key))
        XCTAssertEqual(back.map(\.value), entries.map(\.value))
        XCTAssertEqual(try PNGText.dictionary(tagged)["seed"], "42")
        XCTAssertEqual(try PNGCodec.decode(tagged), try PNGCodec.decode(png))
        XCTAssertTrue(try PNGText.read(png).isEmpty)
        XCTAssertEqual(PNGText.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        var broken = tagged
        broken[40] ^= 0xFF
        XCTAssertThrowsError(try PNGText.read(broken))
        XCTAssertThrowsError(try PNGText.insert([("", "x")], into: png))
        XCTAssertThrowsError(try PNGText.insert([("k", "v")], into: [1, 2, 3]))
    }
}
