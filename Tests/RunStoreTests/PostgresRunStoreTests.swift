import Foundation
import XCTest
@testable import RunStore

/// The conformance suite on PostgreSQL (MESH_DATABASE_URL; a fresh schema per test).
final class PostgresRunStoreTests: XCTestCase {
    private func suite() throws -> RunStoreConformance {
        let url = try requirePostgresURL()
        return RunStoreConformance(makeNamespace: { PostgresNamespace(url: url) })
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

    /// The server kills our backend; the next call reconnects (PQreset) and succeeds.
    func testReconnectsAfterTheBackendIsTerminated() throws {
        let url = try requirePostgresURL()
        let namespace = PostgresNamespace(url: url)
        defer { namespace.destroy() }
        let store = try XCTUnwrap(try namespace.openMigrated() as? PostgresRunStore)
        defer { store.close() }
        let start = makeStart()
        _ = try store.beginRun(start)
        let pid = store.backendPID
        XCTAssertGreaterThan(pid, 0)
        let admin = try PGConnection(conninfo: url)
        defer { admin.close() }
        let killed = try admin.query("SELECT pg_terminate_backend($1::int)", [.int(Int64(pid))])
        XCTAssertEqual(killed.first?[0], "t")
        Thread.sleep(forTimeInterval: 0.1)
        let done = try store.finishRun(runID: start.runID, status: .succeeded, result: Data([1]), error: nil)
        XCTAssertEqual(done.status, .succeeded)
        XCTAssertNotEqual(store.backendPID, pid)
        // Events written through the pipeline after another reset.
        try admin.query("SELECT pg_terminate_backend($1::int)", [.int(Int64(store.backendPID))])
        Thread.sleep(forTimeInterval: 0.1)
        try store.appendEvent(RunEvent(runID: start.runID, type: "log", payloadJSON: "1"))
        try store.flush()
        XCTAssertEqual(try store.events(runID: start.runID, limit: 10).count, 1)
    }

    func testDatabaseErrorsCarryLibpqMessage() throws {
        let url = try requirePostgresURL()
        let namespace = PostgresNamespace(url: url)
        defer { namespace.destroy() }
        let store = try namespace.openMigrated()
        defer { store.close() }
        let first = makeStart()
        _ = try store.beginRun(first)
        var clash = makeStart()
        clash.runID = first.runID   // same primary key, different request
        XCTAssertThrowsError(try store.beginRun(clash)) { error in
            guard case .database(let message) = error as? RunStoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("23505"), message)
            XCTAssertTrue(message.contains("duplicate key"), message)
        }
        // The failed transaction was rolled back; the store keeps working.
        guard case .restarted = try store.beginRun(first) else { return XCTFail("restart") }
    }

    func testBadURLsAndSchemasAreRejectedClearly() throws {
        let url = try requirePostgresURL()
        XCTAssertThrowsError(try PostgresRunStore(url: "postgresql://host:notaport/db?bogus_option=1")) {
            guard case .invalidURL(let message) = $0 as? RunStoreError else { return XCTFail("\($0)") }
            XCTAssertFalse(message.isEmpty)
        }
        XCTAssertThrowsError(try PostgresRunStore(url: url, schema: "Bad-Schema")) {
            guard case .invalidArgument(let field, _) = $0 as? RunStoreError else { return XCTFail("\($0)") }
            XCTAssertEqual(field, "schema")
        }
        XCTAssertThrowsError(try PostgresRunStore(url: "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")) {
            guard case .connection = $0 as? RunStoreError else { return XCTFail("\($0)") }
        }
    }

    func testOpenByURLMigratesAndReportsBackend() throws {
        let url = try requirePostgresURL()
        let store = try RunStores.open(url: url)
        defer { store.close() }
        XCTAssertEqual(store.backend, "postgres")
        let start = makeStart()
        guard case .started = try store.beginRun(start) else { return XCTFail("start") }
        try store.finishRun(runID: start.runID, status: .succeeded, result: Data([3]), error: nil)
    }
}
