import Foundation
import Logging

/// The run store on PostgreSQL through libpq: one connection guarded by a lock, parameterised
/// prepared statements, events written in pipelined batches, reconnect-and-retry-once when the
/// connection breaks.
///
/// `url` is anything libpq accepts (`postgresql://user@host:port/db?...` or `key=value` pairs).
/// `schema` (optional) puts all tables in that schema (created by `migrate()`), so several
/// independent stores (e.g. tests) can share one database.
public final class PostgresRunStore: RunStore, @unchecked Sendable {
    public let backend = "postgres"
    public let url: String
    public let schema: String?
    /// Events are buffered and written when this many are pending (or on `flush()`).
    public let eventBatchSize: Int
    /// ... or when an event appended this many seconds ago is still buffered (checked on append).
    public let eventFlushInterval: TimeInterval
    public let migrations: [Migration]

    let lock = NSLock()
    var connection: PGConnection?
    var pendingEvents: [RunEvent] = []
    /// When the oldest buffered event was appended.
    var pendingSince: Date?
    let logger = Logger(label: "latentmesh.runstore.postgres")

    /// Key of the advisory lock that serialises migrations across processes ("LMRUNS").
    static let migrationLockKey: Int64 = 0x4C4D_5255_4E53

    public init(url: String, schema: String? = nil, eventBatchSize: Int = 256, eventFlushInterval: TimeInterval = 1.0,
                migrations: [Migration] = Migration.all) throws {
        guard url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") || url.contains("=") else {
            throw RunStoreError.invalidURL("expected postgresql://... or libpq key=value pairs, got '\(url)'")
        }
        if let schema { try Self.validateSchema(schema) }
        guard (1...10_000).contains(eventBatchSize) else {
            throw RunStoreError.invalidArgument(
                field: "eventBatchSize", message: "is \(eventBatchSize), must be in 1...10000")
        }
        guard eventFlushInterval >= 0, eventFlushInterval <= 3600 else {
            throw RunStoreError.invalidArgument(
                field: "eventFlushInterval", message: "is \(eventFlushInterval) s, must be in 0...3600")
        }
        try Migration.validate(migrations)
        self.url = url
        self.schema = schema
        self.eventBatchSize = eventBatchSize
        self.eventFlushInterval = eventFlushInterval
        self.migrations = migrations
        let setup = schema.map { "SET search_path TO \"\($0)\"" }
        connection = try PGConnection(conninfo: url, setupSQL: setup)
    }

    deinit { close() }

    static func validateSchema(_ schema: String) throws {
        let ok = !schema.isEmpty && schema.utf8.count <= 63
            && schema.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
            && !(schema.utf8.first.map { $0 >= 48 && $0 <= 57 } ?? true)
        guard ok else {
            throw RunStoreError.invalidArgument(
                field: "schema", message: "'\(schema)' must match [a-z_][a-z0-9_]* and be at most 63 bytes")
        }
    }

    /// Runs `body` on the connection with the lock held; if the connection turns out broken,
    /// resets it (`PQreset`) and runs `body` once more.
    func withConnection<T>(_ body: (PGConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try withConnectionLocked(body)
    }

    func withConnectionLocked<T>(_ body: (PGConnection) throws -> T) throws -> T {
        guard let connection else { throw RunStoreError.closed }
        do {
            return try body(connection)
        } catch {
            guard connection.isBroken else { throw error }
            logger.warning("postgres connection lost, reconnecting", metadata: ["error": "\(error)"])
            try connection.reset()
            return try body(connection)
        }
    }

    /// The PID of the server backend serving this store (for diagnostics and tests).
    public var backendPID: Int32 {
        lock.lock(); defer { lock.unlock() }
        return connection?.backendPID ?? 0
    }

    // MARK: - Migrations

    public func migrate() throws {
        try withConnection { conn in
            try conn.exec("BEGIN")
            do {
                try conn.query("SELECT pg_advisory_xact_lock($1::bigint)", [.int(Self.migrationLockKey)])
                if let schema { try conn.exec("CREATE SCHEMA IF NOT EXISTS \"\(schema)\"") }
                try conn.exec("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version    integer PRIMARY KEY,
                        name       text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now())
                    """)
                let applied = Set(try conn.query("SELECT version FROM schema_migrations").rows
                    .compactMap { PGDecode.int($0[0]).map(Int.init) })
                for step in migrations where !applied.contains(step.version) {
                    do {
                        try conn.exec(step.postgres)
                        try conn.query("INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)",
                                       [.int(Int64(step.version)), .text(step.name)])
                    } catch {
                        throw RunStoreError.migration(version: step.version, name: step.name,
                                                      message: "\(error)")
                    }
                    logger.info("applied migration", metadata: ["version": "\(step.version)",
                                                                "name": "\(step.name)"])
                }
                try conn.exec("COMMIT")
            } catch {
                if !conn.isBroken { try? conn.exec("ROLLBACK") }
                throw error
            }
        }
    }

    /// Versions recorded in `schema_migrations`, ascending.
    public func appliedMigrations() throws -> [Int] {
        try withConnection { conn in
            try conn.query("SELECT version FROM schema_migrations ORDER BY version").rows
                .compactMap { PGDecode.int($0[0]).map(Int.init) }
        }
    }

    // MARK: - Runs

    public func beginRun(_ start: RunStart) throws -> BeginOutcome {
        try withConnection { conn in
            try RunTransitions.begin(start, now: Date(), driver: PostgresDriver(conn))
        }
    }

    @discardableResult
    public func finishRun(runID: String, status: RunStatus, result: Data?, error: RunError?) throws -> RunRecord {
        lock.lock()
        defer { lock.unlock() }
        // Events go first so the audit trail is complete when the run turns terminal; an event
        // failure must not keep the outcome from being recorded.
        do { try flushLocked() } catch {
            logger.error("could not write run events before finishing", metadata: ["run": "\(runID)", "error": "\(error)"])
        }
        return try withConnectionLocked { conn in
            try RunTransitions.finish(runID: runID, status: status, result: result, error: error,
                                      now: Date(), driver: PostgresDriver(conn))
        }
    }

    @discardableResult
    public func updateStatus(runID: String, to status: RunStatus) throws -> RunRecord {
        try withConnection { conn in
            try RunTransitions.update(runID: runID, to: status, now: Date(), driver: PostgresDriver(conn))
        }
    }

    public func recordRejected(_ start: RunStart, error: RunError) throws -> RunRecord {
        try withConnection { conn in
            try RunTransitions.reject(start, error: error, now: Date(), driver: PostgresDriver(conn))
        }
    }

    public func run(id: String) throws -> RunRecord? {
        try withConnection { conn in try PostgresDriver(conn).readRun(runID: id) }
    }

    public func run(requestID: String) throws -> RunRecord? {
        try withConnection { conn in
            try conn.execute(prepared: "lm_run_by_request",
                             sql: "SELECT \(PostgresDriver.columns) FROM runs WHERE request_id = $1",
                             [.text(requestID)]).first.map(PostgresDriver.decodeRun)
        }
    }

    /// The stored request body of a run, if one was recorded.
    public func requestBody(runID: String) throws -> Data? {
        try withConnection { conn in
            PGDecode.bytes(try conn.query("SELECT request_body FROM runs WHERE run_id = $1",
                                          [.text(runID)]).first?[0] ?? nil)
        }
    }

    public func listRuns(_ query: RunQuery) throws -> [RunRecord] {
        try RunStoreValidation.limit(query.limit, field: "limit")
        return try withConnection { conn in
            try conn.execute(prepared: "lm_list_runs", sql: """
                SELECT \(PostgresDriver.columns) FROM runs
                WHERE ($1::text IS NULL OR service = $1) AND ($2::text IS NULL OR status = $2)
                  AND ($3::text IS NULL OR kind = $3)
                ORDER BY created_at DESC, run_id DESC LIMIT $4::int
                """, [.string(query.service), .string(query.status?.rawValue), .string(query.kind),
                      .int(Int64(query.limit))]).rows.map(PostgresDriver.decodeRun)
        }
    }

    // MARK: - Artifacts

    public func recordArtifact(_ artifact: ArtifactRecord) throws {
        try ArtifactRecord.validate(artifact)
        _ = try withConnection { conn in
            try conn.execute(prepared: "lm_insert_artifact", sql: """
                INSERT INTO artifacts (sha256, size, path, media_type, run_id, created_at)
                VALUES ($1, $2::bigint, $3, $4, $5, to_timestamp($6::float8))
                ON CONFLICT (sha256) DO NOTHING
                """, [.text(artifact.sha256), .int(artifact.size), .text(artifact.path),
                      .text(artifact.mediaType), .string(artifact.runID), .date(artifact.createdAt)])
        }
    }

    public func artifact(sha256: String) throws -> ArtifactRecord? {
        try withConnection { conn in
            guard let row = try conn.execute(prepared: "lm_artifact", sql: """
                SELECT sha256, size, path, media_type, run_id, extract(epoch FROM created_at)::float8
                FROM artifacts WHERE sha256 = $1
                """, [.text(sha256)]).first else { return nil }
            return ArtifactRecord(sha256: row[0] ?? "", size: PGDecode.int(row[1]) ?? 0, path: row[2] ?? "",
                                  mediaType: row[3] ?? "", runID: row[4],
                                  createdAt: PGDecode.date(row[5]) ?? Date(timeIntervalSince1970: 0))
        }
    }

    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard connection != nil else { return }
        do { try flushLocked() } catch {
            logger.error("dropping unflushed run events on close", metadata: ["error": "\(error)"])
        }
        connection?.close()
        connection = nil
    }
}
