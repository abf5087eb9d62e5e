import Foundation
import XCTest
@testable import RunStore

/// The conformance suite on SQLite (a temporary file per test).
final class SQLiteRunStoreTests: XCTestCase {
    private func suite() throws -> RunStoreConformance {
        RunStoreConformance(makeNamespace: { SQLiteNamespace() })
    }

    func testBeginFinishAndDuplicateReturnsStoredResult() throws { try suite().beginFinishAndDuplicateReturnsStoredResult() }
    func testRestartAfterCrashIncrementsAttempts() throws { try suite().restartAfterCrashIncrementsAttempts() }
    func testSecondPublishWaitsForRunInProgress() throws { try suite().secondPublishWaitsForRunInProgress() }
    func testConcurrentBeginYieldsExactlyOneStarted() throws { try suite().concurrentBeginYieldsExactlyOneStarted() }
    func testConcurrentFinishHasOneWinner() throws { try suite().concurrentFinishHasOneWinner() }
    func testSequenceStrictlyIncreasesAndInvalidTransitionsAreRefused() throws { try suite().sequenceStrictlyIncreasesAndInvalidTransitionsAreRefused() }
    func testEventsAreBatchedAndReadBackInOrder() throws { try suite().eventsAreBatchedAndReadBackInOrder() }
    func testListRunsFilters() throws { try suite().listRunsFilters() }
    func testRejectedRequestIsDeadLetteredAndNeverRuns() throws { try suite().rejectedRequestIsDeadLetteredAndNeverRuns() }
    func testBytesRoundTrip() throws { try suite().bytesRoundTrip() }
    func testInvalidInputNamesTheField() throws { try suite().invalidInputNamesTheField() }
    func testArtifactsDedupeAndVerify() throws { try suite().artifactsDedupeAndVerify() }
    func testMigrationsAreIdempotentAndConcurrentSafe() throws { try suite().migrationsAreIdempotentAndConcurrentSafe() }
    func testBenchmarkHelperWritesRows() throws { try suite().benchmarkHelperWritesRows() }
    func testModelRegistryRoundTrip() throws { try suite().modelRegistryRoundTrip() }

    func testOpensWALModeFileAndCreatesParentFolders() throws {
        let namespace = SQLiteNamespace()
        defer { namespace.destroy() }
        let store = try RunStores.open(url: "sqlite:" + namespace.path)
        defer { store.close() }
        XCTAssertEqual(store.backend, "sqlite")
        XCTAssertTrue(FileManager.default.fileExists(atPath: namespace.path))
        let lite = try XCTUnwrap(store as? SQLiteRunStore)
        let mode = try lite.withConnection { try $0.query("PRAGMA journal_mode") }
        XCTAssertEqual(mode.first?.first?.stringValue, "wal")
    }

    func testTwoStoresOnOneFileSeeEachOthersWrites() throws {
        let namespace = SQLiteNamespace()
        defer { namespace.destroy() }
        let a = try namespace.openMigrated(), b = try namespace.openMigrated()
        defer { a.close(); b.close() }
        let start = makeStart()
        _ = try a.beginRun(start)
        try a.finishRun(runID: start.runID, status: .succeeded, result: Data([5]), error: nil)
        guard case .finished(let record) = try b.beginRun(start) else { return XCTFail("b must see a's run") }
        XCTAssertEqual(record.result, Data([5]))
    }

    func testClosedStoreThrowsClosed() throws {
        let namespace = SQLiteNamespace()
        defer { namespace.destroy() }
        let store = try namespace.openMigrated()
        store.close()
        XCTAssertThrowsError(try store.beginRun(makeStart())) { XCTAssertEqual($0 as? RunStoreError, .closed) }
    }
}
