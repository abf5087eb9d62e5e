import Foundation
import MeshCtlKit
import MeshTesting
import XCTest

/// Reports record commit, dirty flag, date, CPU model and cores; caches are keyed by the
/// method library's source hash, which changes with any source change.
final class ReportProvenanceTests: XCTestCase {
    func testProvenanceNamesCommitMachineAndDate() throws {
        let p = ReportProvenance.current()
        XCTAssertFalse(p.commit.isEmpty)
        XCTAssertGreaterThan(p.cores, 0)
        XCTAssertFalse(p.cpuModel.isEmpty)
        XCTAssertNotNil(ISO8601DateFormatter().date(from: p.date), p.date)
        XCTAssertEqual(Set(p.dictionary.keys), ["commit", "dirty", "date", "cpu", "cores"])
        XCTAssertTrue(p.markdown.contains(p.commit))
    }

    func testSourceHashChangesWithTheLibrarySources() throws {
        let dir = TestEnvironment.tempDir("srchash")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("Sub"), withIntermediateDirectories: true)
        try "let a = 1\n".write(to: dir.appendingPathComponent("A.swift"), atomically: true, encoding: .utf8)
        try "let b = 2\n".write(to: dir.appendingPathComponent("Sub/B.swift"), atomically: true, encoding: .utf8)
        let h1 = try ReportProvenance.sourceHash(of: dir.path)
        XCTAssertEqual(h1, try ReportProvenance.sourceHash(of: dir.path))
        XCTAssertEqual(h1.count, 64)
        try "let b = 3\n".write(to: dir.appendingPathComponent("Sub/B.swift"), atomically: true, encoding: .utf8)
        XCTAssertNotEqual(h1, try ReportProvenance.sourceHash(of: dir.path))
        try "notes".write(to: dir.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        let h2 = try ReportProvenance.sourceHash(of: dir.path)
        try "more notes".write(to: dir.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        XCTAssertEqual(h2, try ReportProvenance.sourceHash(of: dir.path), "only Swift sources count")
        XCTAssertThrowsError(try ReportProvenance.sourceHash(of: dir.appendingPathComponent("missing").path))
    }
}
