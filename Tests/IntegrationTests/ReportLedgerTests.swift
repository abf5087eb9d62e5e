import Foundation
import Evaluation
import MeshTesting
import XCTest

/// The committed ledger of a long report: entries round-trip with the run that measured them
/// (non-finite numbers included), keys are file names, and a damaged entry is an error naming the
/// file rather than a silent re-measurement.
final class ReportLedgerTests: XCTestCase {
    struct Value: Codable, Equatable { var name: String; var x: Double; var y: [Double] }

    func testEntriesRoundTripWithTheirProvenance() throws {
        let dir = TestEnvironment.tempDir("ledger")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledger = ReportLedger(directory: dir.appendingPathComponent("area/ledger"))
        XCTAssertNil(try ledger.entry("m.eval-1", as: Value.self), "nothing stored yet")
        XCTAssertFalse(try ledger.contains("m.eval-1"))
        let v = Value(name: "a", x: .nan, y: [1.5, .infinity, -2])
        try ledger.store(v, key: "m.eval-1", provenance: ["commit": "abc", "dirty": "no"])
        XCTAssertTrue(try ledger.contains("m.eval-1"))
        let e = try XCTUnwrap(try ledger.entry("m.eval-1", as: Value.self))
        XCTAssertEqual(e.value.name, "a")
        XCTAssertTrue(e.value.x.isNaN)
        XCTAssertEqual(e.value.y, [1.5, .infinity, -2])
        XCTAssertEqual(e.measuredBy, ["commit": "abc", "dirty": "no"])
        let bytes = try Data(contentsOf: try ledger.file("m.eval-1"))
        try ledger.store(v, key: "m.eval-1", provenance: ["dirty": "no", "commit": "abc"])
        XCTAssertEqual(try Data(contentsOf: try ledger.file("m.eval-1")), bytes, "sorted keys: storing the same entry again changes no byte")
        XCTAssertEqual(ReportLedger.commits([["commit": "b"], ["commit": "a", "dirty": "yes"], ["commit": "b", "dirty": "no"]]), ["a+dirty", "b"])
    }

    func testKeysAreFileNamesAndDamagedEntriesAreErrors() throws {
        let dir = TestEnvironment.tempDir("ledger-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledger = ReportLedger(directory: dir)
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            XCTAssertThrowsError(try ledger.store(Value(name: "", x: 0, y: []), key: bad, provenance: [:]), bad) { error in
                XCTAssertTrue("\(error)".contains("ledger key"), "\(error)")
            }
        }
        try Data("{not json".utf8).write(to: try ledger.file("broken"))
        XCTAssertThrowsError(try ledger.entry("broken", as: Value.self)) { error in
            XCTAssertTrue("\(error)".contains("broken.json") && "\(error)".contains("unreadable"), "\(error)")
        }
    }
}
