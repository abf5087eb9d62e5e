import Datasets
import XCTest

final class PNGCodecTests: XCTestCase {
    func testRoundTripIsLosslessForGrayRGBAndRGBA() throws {
        var rng = SeededRNG(seed: 7)
        for channels in [1, 2, 3, 4] {
            let w = 13, h = 9
            let bytes = (0..<(w * h * channels)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let png = try PNGCodec.encode(bytes: bytes, width: w, height: h, channels: channels)
            XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
            let back = try PNGCodec.decodeRGBA(png)
            XCTAssertEqual(back.width, w)
            XCTAssertEqual(back.height, h)
            for i in 0..<(w * h) {
                let px = Array(bytes[(i * channels)..<((i + 1) * channels)])
                let rgba = Array(back.bytes[(4 * i)..<(4 * i + 4)])
                switch channels {
                case 1: XCTAssertEqual(rgba, [px[0], px[0], px[0], 255])
                case 2: XCTAssertEqual(rgba, [px[0], px[0], px[0], px[1]])
                case 3: XCTAssertEqual(rgba, px + [255])
                default: XCTAssertEqual(rgba, px)
                }
            }
        }
    }

    func testImageBufferRoundTripIsExactAt8Bits() throws {
        let img = try FashionMNIST(part: .test).image(at: 3)
        let decoded = try PNGCodec.decode(try PNGCodec.encode(img), gray: true)
        XCTAssertEqual(decoded.bytes(), img.bytes())
    }

    func testDecodesPaletteEmojiWithTransparencyOnWhite() throws {
        let path = try EmojiDataset.defaultRoot() + "/assets/png/1F600.png"
        let raw = try PNGCodec.decodeRGBA([UInt8](FileManager.default.contents(atPath: path)!))
        XCTAssertEqual(raw.width, 64)
        XCTAssertEqual(raw.bytes[3], 0, "corner pixel is transparent")
        let img = try PNGCodec.decode(path: path)
        XCTAssertEqual(img.channels, 3)
        XCTAssertEqual(img[0, 0, 0], 1, accuracy: 1e-6, "transparent corner composited on white")
        let center = (0..<3).map { img[32, 20, $0] }
        XCTAssertLessThan(center.reduce(0, +), 2.9, "the face is not white")
    }

    func testRejectsGarbageWithAClearError() {
        XCTAssertThrowsError(try PNGCodec.decodeRGBA([1, 2, 3, 4, 5, 6, 7, 8, 9])) { e in
            XCTAssertTrue("\(e)".contains("signature"), "\(e)")
        }
        var truncated = try! PNGCodec.encode(bytes: [UInt8](repeating: 9, count: 300), width: 10, height: 10, channels: 3)
        truncated.removeLast(30)
        XCTAssertThrowsError(try PNGCodec.decodeRGBA(truncated))
        XCTAssertThrowsError(try PNGCodec.encode(bytes: [1, 2, 3], width: 2, height: 2, channels: 3)) { e in
            XCTAssertTrue("\(e)".contains("bytes"), "\(e)")
        }
    }

    func testGridLayoutAndCaptions() throws {
        let ds = try FashionMNIST(part: .test)
        let imgs = try ds.images(at: Array(0..<6))
        let plain = try ImageGrid.make(imgs, columns: 3, padding: 2)
        XCTAssertEqual(plain.width, 2 + 3 * 30)
        XCTAssertEqual(plain.height, 2 + 2 * 30)
        XCTAssertEqual(plain[0, 0, 0], 1)  // padding is background
        XCTAssertEqual(plain[2 + 5, 2 + 5, 0], imgs[0][5, 5, 0])
        let captioned = try ImageGrid.make(imgs, columns: 3, padding: 2, captions: (0..<6).map { ds.caption(at: $0) })
        XCTAssertGreaterThan(captioned.height, plain.height)
        // The caption strip under the first cell has dark (text) pixels.
        var dark = 0
        for y in (2 + 28)..<(2 + 28 + 13) { for x in 2..<30 where captioned[x, y, 0] < 0.5 { dark += 1 } }
        XCTAssertGreaterThan(dark, 10)
        XCTAssertThrowsError(try ImageGrid.make(imgs, columns: 3, captions: ["one"]))
    }

    /// Characters that report figure titles use ("bars: ± spread", "x10 × 2", "[a]") draw their own
    /// glyph, not the "?" that stands in for a character the font lacks.
    func testReportCharactersHaveTheirOwnGlyphs() {
        func render(_ text: String) -> [Float] {
            var image = ImageBuffer(width: 8, height: 7, channels: 1, fill: 1)
            ImageGrid.drawText(text, into: &image, x: 1, y: 1)
            return (0..<7).flatMap { y in (0..<8).map { x in image[x, y, 0] } }
        }
        let unknown = render("?")
        for ch in ["±", "×", "[", "]", ";", "|", "#", "&"] {
            let pixels = render(ch)
            XCTAssertNotEqual(pixels, unknown, "'\(ch)' falls back to '?'")
            XCTAssertTrue(pixels.contains(0), "'\(ch)' draws nothing")
        }
        XCTAssertNotEqual(render("±"), render("+"))
    }
}
