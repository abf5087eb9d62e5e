import XCTest
@testable import Datasets

/// Image size is checked from the PNG header before any pixel memory is allocated.
final class PNGLimitTests: XCTestCase {
    func testDimensionsComeFromTheHeader() throws {
        let png = try PNGCodec.encode(bytes: [UInt8](repeating: 7, count: 5 * 3 * 3), width: 5, height: 3, channels: 3)
        let d = try PNGCodec.dimensions(png)
        XCTAssertEqual(d.width, 5)
        XCTAssertEqual(d.height, 3)
        XCTAssertThrowsError(try PNGCodec.dimensions(Array(png.prefix(20)))) { e in
            XCTAssertTrue("\(e)".contains("header"), "\(e)")
        }
    }

    /// A 1×1 PNG whose header claims 16000×16000 (1 GiB of RGBA) is refused by its header,
    /// naming the limit, without reaching libpng's allocation.
    func testHugeHeaderIsRefusedBeforeDecoding() throws {
        var png = try PNGCodec.encode(bytes: [1, 2, 3], width: 1, height: 1, channels: 3)
        for (offset, value) in [(16, 16000), (20, 16000)] {
            for k in 0..<4 { png[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * (3 - k))) }
        }
        XCTAssertThrowsError(try PNGCodec.decodeRGBA(png)) { e in
            XCTAssertTrue("\(e)".contains("16000x16000"), "\(e)")
            XCTAssertTrue("\(e)".contains("image.max_pixels"), "\(e)")
            XCTAssertTrue("\(e)".contains("\(PNGCodec.maxPixels)"), "\(e)")
        }
        let two = try PNGCodec.encode(bytes: [UInt8](repeating: 9, count: 2 * 2 * 3), width: 2, height: 2, channels: 3)
        XCTAssertEqual(try PNGCodec.decodeRGBA(two, maxPixels: 4).width, 2)
        XCTAssertThrowsError(try PNGCodec.decode(two, maxPixels: 3)) { e in
            XCTAssertTrue("\(e)".contains("the limit is 3 pixels"), "\(e)")
        }
    }
}
