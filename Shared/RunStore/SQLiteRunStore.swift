import Foundation
import Logging

/// The run store on SQLite for the embedded mode: one connection guarded by a lock, WAL mode,
/// a busy timeout, `BEGIN IMMEDIATE` write transactions (safe with several processes on one file).
/// Same schema and semantics as `PostgresRunStore`; timestamps are REAL seconds since 1970.
public final class SQLiteRunStore: RunStore, @unchecked Sendable {
    public let backend = "sqlite"
    public let path: String
    /// Events are buffered and written when this many are pending (or on `flush()`).
    public let eventBatchSize: Int
    /// ... or when an event appended this many seconds ago is still buffered (checked on append).
    public let eventFlushInterval: TimeInterval
    public let migrations: [Migration]

    let lock = NSLock()
    var connection: SQLiteConnection?
    var pendingEvents: [RunEvent] = []
    /// When the oldest buffered event was appended.
    var pendingSince: Date?
    let logger = Logger(label: "latentmesh.runstore.sqlite")

    /// Opens (creating it and its parent folders if needed) the database file at `path`
    /// (":memory:" for a private in-memory database).
    public init(path: String, eventBatchSize: Int = 256, eventFlushInterval: TimeInterval = 1.0, migrations: [Migration] = Migration.all) throws {
        guard !path.isEmpty else {
            throw RunStoreError.invalidArgument(field: "path", message: "must not be empty")
        }
        guard (1...10_000).contains(eventBatchSize) else {
            throw RunStoreError.invalidArgument(
                field: "eventBatchSize", message: "is \(eventBatchSize), must be in 1...10000")
        }
        guard eventFlushInterval >= 0, eventFlushInterval <= 3600 else {
            throw RunStoreError.invalidArgument(
                field: "eventFlushInterval", message: "is \(eventFlushInterval) s, must be in 0...3600")
        }
        try Migration.validate(migrations)
        if path != ":memory:" {
            let parent = URL(fileURLWithPath: path).deletingLastPathComponent()
            do {
                try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
            } catch {
                throw RunStoreError.connection("cannot create folder \(parent.path): \(error.localizedDescription)")
            }
        }
        self.path = path
        self.eventBatchSize = eventBatchSize
        self.eventFlushInterval = eventFlushInterval
        self.migrations = migrations
        connection = try SQLiteConnection(path: path)
    }

    deinit { close() }

    func withConnection<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        guard let connection else { throw RunStoreError.closed }
        return try body(connection)
    }

    // MARK: - Migrations

    public func migrate() throws {
        try withConnection { conn in
            try conn.immediateTransaction {
                try conn.exec("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version    INTEGER PRIMARY KEY,
                        name       TEXT NOT NULL,
                        applied_at REAL NOT NULL)
                    """)
                let applied = Set(try conn.query("SELECT version FROM schema_migrations")
                    .compactMap { $0[0].intValue.map(Int.init) })
                for step in migrations where !applied.contains(step.version) {
                    do {
                        try conn.exec(step.sqlite)
                        try conn.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                                       [.int(Int64(step.version)), .text(step.name), .date(Date())])
                    } catch {
                        throw RunStoreError.migration(version: step.version, name: step.name,
                                                      message: "\(error)")
                    }
                    logger.info("applied migration", metadata: ["version": "\(step.version)",
                                                                "name": "\(step.name)"])
                }
            }
        }
    }

    /// Versions recorded in `schema_migrations`, ascending.
    public func appliedMigrations() throws -> [Int] {
        try withConnection { conn in
            try conn.query("SELECT version FROM schema_migrations ORDER BY version")
                .compactMap { $0[0].intValue.map(Int.init) }
        }
    }

    // MARK: - Runs

    public func beginRun(_ start: RunStart) throws -> BeginOutcome {
        try withConnection { conn in
            try RunTransitions.begin(start, now: Date(), driver: SQLiteDriver(conn))
        }
    }

    @discardableResult
    public func finishRun(runID: String, status: RunStatus, result: Data?, error: RunError?) throws -> RunRecord {
        try withConnection { conn in
            // Events first; an event failure must not keep the outcome from being recorded.
            do { try flushLocked(conn) } catch {
                logger.error("could not write run events before finishing", metadata: ["run": "\(runID)", "error": "\(error)"])
            }
            return try RunTransitions.finish(runID: runID, status: status, result: result, error: error,
                                             now: Date(), driver: SQLiteDriver(conn))
        }
    }

    @discardableResult
    public func updateStatus(runID: String, to status: RunStatus) throws -> RunRecord {
        try withConnection { conn in
            try RunTransitions.update(runID: runID, to: status, now: Date(), driver: SQLiteDriver(conn))
        }
    }

    public func recordRejected(_ start: RunStart, error: RunError) throws -> RunRecord {
        try withConnection { conn in
            try RunTransitions.reject(start, error: error, now: Date(), driver: SQLiteDriver(conn))
        }
    }

    public func run(id: String) throws -> RunRecord? {
        try withConnection { conn in try SQLiteDriver(conn).readRun(runID: id) }
    }

    public func run(requestID: String) throws -> RunRecord? {
        try withConnection { conn in try SQLiteDriver(conn).lockRun(requestID: requestID) }
    }

    /// The stored request body of a run, if one was recorded.
    public func requestBody(runID: String) throws -> Data? {
        try withConnection { conn in
            try conn.query("SELECT request_body FROM runs WHERE run_id = ?1", [.text(runID)]).first?[0].dataValue
        }
    }

    public func listRuns(_ query: RunQuery) throws -> [RunRecord] {
        try RunStoreValidation.limit(query.limit, field: "limit")
        return try withConnection { conn in
            try conn.query("""
                SELECT \(SQLiteDriver.columns) FROM runs
                WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR status = ?2)
                  AND (?3 IS NULL OR kind = ?3)
                ORDER BY created_at DESC, run_id DESC LIMIT ?4
                """, [.string(query.service), .string(query.status?.rawValue), .string(query.kind),
                      .int(Int64(query.limit))]).map(SQLiteDriver.decodeRun)
        }
    }

    // MARK: - Events (buffered, one transaction per batch)

    public func appendEvent(_ event: RunEvent) throws {
        try RunStoreValidation.event(event)
        try withConnection { conn in
            let now = Date()
            if pendingEvents.isEmpty { pendingSince = now }
            pendingEvents.append(event)
            if pendingEvents.count >= eventBatchSize
                || now.timeIntervalSince(pendingSince ?? now) >= eventFlushInterval {
                try flushLocked(conn)
            }
        }
    }

    public func flush() throws {
        try withConnection { conn in try flushLocked(conn) }
    }

    /// Number of events buffered and not yet written.
    public var pendingEventCount: Int {
        lock.lock(); defer { lock.unlock() }
        return pendingEvents.count
    }

    func flushLocked(_ conn: SQLiteConnection) throws {
        guard !pendingEvents.isEmpty else { return }
        let batch = pendingEvents
        defer { pendingEvents.removeAll(); pendingSince = nil }
        try conn.immediateTransaction {
            for event in batch {
                try conn.query("INSERT INTO run_events (run_id, type, payload, at) VALUES (?1, ?2, ?3, ?4)",
                               [.text(event.runID), .text(event.type), .text(event.payloadJSON), .date(event.at)])
            }
        }
    }

    public func events(runID: String, limit: Int) throws -> [RunEvent] {
        try RunStoreValidation.limit(limit, field: "limit")
        return try withConnection { conn in
            try flushLocked(conn)
            return try conn.query("""
                SELECT run_id, type, payload, at FROM run_events WHERE run_id = ?1 ORDER BY id LIMIT ?2
                """, [.text(runID), .int(Int64(limit))]).map { row in
                RunEvent(runID: row[0].stringValue ?? "", type: row[1].stringValue ?? "",
                         payloadJSON: row[2].stringValue ?? "null",
                         at: row[3].dateValue ?? Date(timeIntervalSince1970: 0))
            }
        }
    }

    // MARK: - Artifacts

    public func recordArtifact(_ artifact: ArtifactRecord) throws {
        try ArtifactRecord.validate(artifact)
        _ = try withConnection { conn in
            try conn.query("""
                INSERT INTO artifacts (sha256, size, path, media_type, run_id, created_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (sha256) DO NOTHING
                """, [.text(artifact.sha256), .int(artifact.size), .text(artifact.path),
                      .text(artifact.mediaType), .string(artifact.runID), .date(artifact.createdAt)])
        }
    }

    public func artifact(sha256: String) throws -> ArtifactRecord? {
        try withConnection { conn in
            guard let row = try conn.query("""
                SELECT sha256, size, path, media_type, run_id, created_at FROM artifacts WHERE sha256 = ?1
                """, [.text(sha256)]).first else { return nil }
            return ArtifactRecord(sha256: row[0].stringValue ?? "", size: row[1].intValue ?? 0,
                                  path: row[2].stringValue ?? "", mediaType: row[3].stringValue ?? "",
                                  runID: row[4].stringValue,
                                  createdAt: row[5].dateValue ?? Date(timeIntervalSince1970: 0))
        }
    }

    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard let connection else { return }
        do { try flushLocked(connection) } catch {
            logger.error("dropping unflushed run events on close", metadata: ["error": "\(error)"])
        }
        connection.close()
        self.connection = nil
    }
}
