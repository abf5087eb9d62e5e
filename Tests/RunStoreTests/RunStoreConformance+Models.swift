import Foundation
import XCTest
@testable import RunStore

extension RunStoreConformance {
    /// The model registry: register, replace, read, list with filters, remove; bad names and
    /// digests are refused naming the field.
    func modelRegistryRoundTrip() throws {
        try withStore { store, _ in
            let digest = String(repeating: "ab", count: 32)
            let tok = ModelRecord(name: "vtp-s", sha256: digest, size: 1234, kind: "vtp-tokenizer", service: "tokenizer",
                                  configJSON: #"{"preset":"vtp-fmnist32-s","steps":3}"#, runID: "run-1",
                                  createdAt: Date(timeIntervalSince1970: 1_700_000_000))
            try store.registerModel(tok)
            let gen = ModelRecord(name: "gen-1", sha256: String(repeating: "cd", count: 32), size: 99, kind: "flowgen",
                                  service: "generator", parents: ["vtp-s"], createdAt: Date(timeIntervalSince1970: 1_700_000_100))
            try store.registerModel(gen)
            let read = try XCTUnwrap(try store.model(name: "vtp-s"))
            XCTAssertEqual(read.sha256, digest)
            XCTAssertEqual(read.size, 1234)
            XCTAssertEqual(read.kind, "vtp-tokenizer")
            XCTAssertEqual(read.service, "tokenizer")
            XCTAssertEqual(read.runID, "run-1")
            XCTAssertEqual(read.createdAt.timeIntervalSince1970, 1_700_000_000, accuracy: 0.01)
            let cfg = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(read.configJSON.utf8)) as? [String: Any])
            XCTAssertEqual(cfg["steps"] as? Int, 3)
            XCTAssertEqual(try store.model(name: "gen-1")?.parents, ["vtp-s"])
            XCTAssertNil(try store.model(name: "missing"))

            XCTAssertEqual(try store.listModels(ModelQuery()).map(\.name), ["gen-1", "vtp-s"], "newest first")
            XCTAssertEqual(try store.listModels(ModelQuery(service: "tokenizer")).map(\.name), ["vtp-s"])
            XCTAssertEqual(try store.listModels(ModelQuery(kind: "flowgen")).map(\.name), ["gen-1"])

            var replaced = tok
            replaced.sha256 = String(repeating: "ef", count: 32); replaced.size = 5
            try store.registerModel(replaced)
            XCTAssertEqual(try store.model(name: "vtp-s")?.sha256, replaced.sha256, "registering a name again replaces it")
            XCTAssertEqual(try store.listModels(ModelQuery()).count, 2)

            XCTAssertTrue(try store.removeModel(name: "vtp-s"))
            XCTAssertFalse(try store.removeModel(name: "vtp-s"))
            XCTAssertNil(try store.model(name: "vtp-s"))

            for (bad, field) in [("../etc", "name"), ("", "name"), (".hidden", "name"), (String(repeating: "x", count: 65), "name")] {
                var m = tok; m.name = bad
                XCTAssertThrowsError(try store.registerModel(m)) {
                    guard case .invalidArgument(let f, _) = $0 as? RunStoreError else { return XCTFail("\($0)") }
                    XCTAssertEqual(f, field)
                }
            }
            var m = tok; m.sha256 = "xyz"
            XCTAssertThrowsError(try store.registerModel(m))
            m = tok; m.parents = ["ok", "no/slash"]
            XCTAssertThrowsError(try store.registerModel(m)) {
                guard case .invalidArgument(let f, _) = $0 as? RunStoreError else { return XCTFail("\($0)") }
                XCTAssertEqual(f, "parents[1]")
            }
        }
    }
}
