import XCTest
@testable import RunStore

final class SHA256Tests: XCTestCase {
    /// FIPS 180-4 / NIST CAVS examples.
    func testNISTVectors() {
        XCTAssertEqual(SHA256.hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(Data(("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                                       + "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu").utf8)),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    func testMillionA() {
        XCTAssertEqual(SHA256.hex(Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testStreamingInOddChunksMatchesOneShot() {
        let data = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        for chunk in [1, 3, 63, 64, 65, 127, 999] {
            var hasher = SHA256()
            var offset = 0
            while offset < data.count {
                let end = min(offset + chunk, data.count)
                hasher.update(data[offset..<end])
                offset = end
            }
            XCTAssertEqual(SHA256.hexString(hasher.finalize()), SHA256.hex(data), "chunk \(chunk)")
        }
    }

    /// Lengths around the padding boundaries (55, 56, 63, 64 bytes) against coreutils `sha256sum`.
    func testMatchesSha256sum() throws {
        let tool = URL(fileURLWithPath: "/usr/bin/sha256sum")
        guard FileManager.default.isExecutableFile(atPath: tool.path) else {
            throw XCTSkip("sha256sum not installed")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for length in [1, 55, 56, 57, 63, 64, 65, 119, 120, 4097] {
            let data = Data((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ length) })
            let file = dir.appendingPathComponent("f\(length)")
            try data.write(to: file)
            let process = Process()
            process.executableURL = tool
            process.arguments = [file.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let expected = String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init)
            XCTAssertEqual(SHA256.hex(data), expected, "length \(length)")
        }
    }
}

/// The OpenSSL-backed hasher keeps value semantics: a copy continues independently.
final class SHA256ValueSemanticsTests: XCTestCase {
    func testCopiesHashIndependentlyAndFinalizeStartsOver() {
        var a = SHA256()
        a.update(Data("ab".utf8))
        var b = a
        a.update(Data("c".utf8))
        b.update(Data("x".utf8))
        XCTAssertEqual(SHA256.hexString(a.finalize()), SHA256.hex(Data("abc".utf8)))
        XCTAssertEqual(SHA256.hexString(b.finalize()), SHA256.hex(Data("abx".utf8)))
        XCTAssertEqual(SHA256.hexString(a.finalize()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                       "after finalize the hasher starts over (empty input)")
    }
}
