import Foundation
import XCTest
@testable import RunStore

/// Conformance checks for artifacts, migrations and the benchmark helper.
extension RunStoreConformance {
    func artifactsDedupeAndVerify() throws {
        try withStore { store, namespace in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("artifacts-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: root) }
            let artifacts = try ArtifactStore(root: root, store: store)
            let bytes = Data("checkpoint bytes \(UUID())".utf8)
            let first = try artifacts.put(bytes, mediaType: "application/octet-stream", runID: "run-a")
            XCTAssertEqual(first.sha256, SHA256.hex(bytes))
            XCTAssertEqual(first.size, Int64(bytes.count))
            XCTAssertEqual(first.path, "\(first.sha256.prefix(2))/\(first.sha256.dropFirst(2))")
            let second = try artifacts.put(bytes, mediaType: "application/octet-stream", runID: "run-b")
            XCTAssertEqual(second, first, "the same bytes keep the first record")
            let folder = root.appendingPathComponent(String(first.sha256.prefix(2)))
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).count, 1)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("tmp").path), [])
            XCTAssertEqual(try artifacts.read(sha256: first.sha256), bytes)
            XCTAssertEqual(try store.artifact(sha256: first.sha256), first)
            XCTAssertEqual(first.runID, "run-a")

            // A file put by path dedupes against the same bytes put in memory.
            let source = root.appendingPathComponent("source.bin")
            try bytes.write(to: source)
            XCTAssertEqual(try artifacts.put(fileAt: source, mediaType: "application/octet-stream").sha256, first.sha256)
            let larger = Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 >> 3) })
            try larger.write(to: source)
            let big = try artifacts.put(fileAt: source, mediaType: "application/x-safetensors")
            XCTAssertEqual(big.sha256, SHA256.hex(larger))
            XCTAssertEqual(big.size, 3_000_000)
            try artifacts.verify(sha256: big.sha256)

            // Corruption is detected on read and verify.
            try Data("tampered".utf8).write(to: try artifacts.url(sha256: first.sha256))
            XCTAssertThrowsError(try artifacts.read(sha256: first.sha256)) {
                XCTAssertEqual($0 as? RunStoreError,
                               .artifactCorrupted(sha256: first.sha256, actual: SHA256.hex(Data("tampered".utf8))))
            }
            XCTAssertThrowsError(try artifacts.verify(sha256: first.sha256))
            // Storing the bytes again repairs a file whose size is wrong.
            try artifacts.put(bytes, mediaType: "application/octet-stream")
            XCTAssertEqual(try artifacts.read(sha256: first.sha256), bytes)
            let missing = String(repeating: "0", count: 64)
            XCTAssertThrowsError(try artifacts.read(sha256: missing)) {
                XCTAssertEqual($0 as? RunStoreError, .artifactNotFound(sha256: missing))
            }
            XCTAssertNil(try store.artifact(sha256: missing))
            XCTAssertThrowsError(try artifacts.read(sha256: "../../etc/passwd"))
            _ = namespace
        }
    }

    /// Applying twice changes nothing; two stores migrating one fresh namespace at once both
    /// succeed and each step is applied once; a later step is picked up by the next start.
    func migrationsAreIdempotentAndConcurrentSafe() throws {
        let namespace = try makeNamespace()
        defer { namespace.destroy() }
        let known = Migration.all.map(\.version)
        let next = (known.last ?? 0) + 1
        let extra = Migration(version: next, name: "test table",
                              postgres: "CREATE TABLE migration_probe (id integer PRIMARY KEY)",
                              sqlite: "CREATE TABLE migration_probe (id INTEGER PRIMARY KEY)")
        let a = try namespace.open(eventBatchSize: 16, eventFlushInterval: 60, migrations: Migration.all)
        let b = try namespace.open(eventBatchSize: 16, eventFlushInterval: 60, migrations: Migration.all)
        defer { a.close(); b.close() }
        let lock = NSLock()
        var errors: [String] = []
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            do { try (i == 0 ? a : b).migrate() } catch {
                lock.lock(); errors.append("\(error)"); lock.unlock()
            }
        }
        XCTAssertEqual(errors, [])
        try a.migrate()
        try b.migrate()
        XCTAssertEqual(try applied(a), known)
        guard case .started = try a.beginRun(makeStart()) else { return XCTFail("store usable after migrate") }

        let c = try namespace.open(eventBatchSize: 16, eventFlushInterval: 60, migrations: Migration.all + [extra])
        let d = try namespace.open(eventBatchSize: 16, eventFlushInterval: 60, migrations: Migration.all + [extra])
        defer { c.close(); d.close() }
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            do { try (i == 0 ? c : d).migrate() } catch {
                lock.lock(); errors.append("\(error)"); lock.unlock()
            }
        }
        XCTAssertEqual(errors, [])
        XCTAssertEqual(try applied(c), known + [next])
        try c.migrate()
        XCTAssertEqual(try applied(d), known + [next])

        let broken = Migration(version: next + 1, name: "broken", postgres: "CREATE TABLE (", sqlite: "CREATE TABLE (")
        let e = try namespace.open(eventBatchSize: 16, eventFlushInterval: 60, migrations: Migration.all + [extra, broken])
        defer { e.close() }
        XCTAssertThrowsError(try e.migrate()) {
            guard case .migration(let version, _, _) = $0 as? RunStoreError else { return XCTFail("\($0)") }
            XCTAssertEqual(version, next + 1)
        }
        XCTAssertEqual(try applied(e), known + [next], "a failed step is rolled back and not recorded")
        XCTAssertThrowsError(try namespace.open(eventBatchSize: 16, eventFlushInterval: 60, migrations: [extra, Migration.all[0]]))
    }

    func benchmarkHelperWritesRows() throws {
        try withStore(eventBatchSize: 64) { store, _ in
            let report = try store.runAuditWriteBenchmark(count: 20, eventsPerRun: 3)
            XCTAssertEqual(report.writes, 100)
            XCTAssertGreaterThan(report.writesPerSecond, 0)
            let runs = try store.listRuns(RunQuery(service: "bench", status: .succeeded, limit: 100))
            XCTAssertEqual(runs.count, 20)
            XCTAssertEqual(try store.events(runID: runs[0].runID, limit: 10).count, 3)
            XCTAssertGreaterThan(store.measureAuditWrites(count: 5), 0)
            XCTAssertGreaterThan(measureAuditWrites(store: store, count: 5), 0)
            XCTAssertEqual(try store.listRuns(RunQuery(service: "bench", limit: 100)).count, 30)
            XCTAssertEqual(store.measureAuditWrites(count: 0), 0, "a bad count reports 0")
        }
    }

    func applied(_ store: RunStore) throws -> [Int] {
        if let pg = store as? PostgresRunStore { return try pg.appliedMigrations() }
        if let lite = store as? SQLiteRunStore { return try lite.appliedMigrations() }
        XCTFail("unknown store type")
        return []
    }
}
