import Foundation

/// `RunStoreDriver` over one SQLite connection: `BEGIN IMMEDIATE` transactions (the database
/// write lock stands in for row locks), `INSERT ... ON CONFLICT (request_id) DO NOTHING RETURNING`.
final class SQLiteDriver: RunStoreDriver {
    let conn: SQLiteConnection

    init(_ conn: SQLiteConnection) { self.conn = conn }

    /// The columns of a `RunRecord`, in `decodeRun` order.
    static let columns = """
        run_id, request_id, service, kind, status, sequence, config, git_commit, worker, attempts, \
        created_at, started_at, finished_at, queue_wait_ms, duration_ms, result, \
        error_code, error_field, error_message
        """

    static func decodeRun(_ row: [SQLValue]) throws -> RunRecord {
        guard row.count == 19 else {
            throw RunStoreError.database("run row has \(row.count) columns, expected 19")
        }
        guard let statusText = row[4].stringValue, let status = RunStatus(rawValue: statusText) else {
            throw RunStoreError.database(
                "run \(row[0].stringValue ?? "?") has unknown status '\(row[4].stringValue ?? "NULL")'")
        }
        let error = row[16].stringValue.map {
            RunError(code: $0, field: row[17].stringValue ?? "", message: row[18].stringValue ?? "")
        }
        return RunRecord(
            runID: row[0].stringValue ?? "", requestID: row[1].stringValue ?? "",
            service: row[2].stringValue ?? "", kind: row[3].stringValue ?? "", status: status,
            sequence: row[5].intValue ?? 0, configJSON: row[6].stringValue ?? "{}",
            gitCommit: row[7].stringValue ?? "", worker: row[8].stringValue ?? "",
            attempts: Int(row[9].intValue ?? 0),
            createdAt: row[10].dateValue ?? Date(timeIntervalSince1970: 0),
            startedAt: row[11].dateValue, finishedAt: row[12].dateValue,
            queueWaitMs: row[13].doubleValue, durationMs: row[14].doubleValue,
            result: row[15].dataValue, error: error)
    }

    func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try conn.immediateTransaction(body)
    }

    func insertRun(_ r: RunRecord, enqueuedAt: Date?, requestBody: Data?) throws -> RunRecord? {
        try conn.query("""
            INSERT INTO runs (run_id, request_id, service, kind, status, sequence, config, git_commit,
                worker, attempts, created_at, enqueued_at, started_at, finished_at, queue_wait_ms,
                duration_ms, request_body, result, error_code, error_field, error_message)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                ?19, ?20, ?21)
            ON CONFLICT (request_id) DO NOTHING
            RETURNING \(Self.columns)
            """, [
                .text(r.runID), .text(r.requestID), .text(r.service), .text(r.kind),
                .text(r.status.rawValue), .int(r.sequence), .text(r.configJSON), .text(r.gitCommit),
                .text(r.worker), .int(Int64(r.attempts)), .date(r.createdAt), .date(enqueuedAt),
                .date(r.startedAt), .date(r.finishedAt), .double(r.queueWaitMs), .double(r.durationMs),
                .data(requestBody), .data(r.result), .string(r.error?.code), .string(r.error?.field),
                .string(r.error?.message),
            ]).first.map(Self.decodeRun)
    }

    func lockRun(requestID: String) throws -> RunRecord? {
        try conn.query("SELECT \(Self.columns) FROM runs WHERE request_id = ?1", [.text(requestID)])
            .first.map(Self.decodeRun)
    }

    func lockRun(runID: String) throws -> RunRecord? {
        try conn.query("SELECT \(Self.columns) FROM runs WHERE run_id = ?1", [.text(runID)])
            .first.map(Self.decodeRun)
    }

    func readRun(runID: String) throws -> RunRecord? {
        try lockRun(runID: runID)
    }

    func updateRun(_ r: RunRecord, expectedSequence: Int64) throws -> RunRecord? {
        guard let row = try conn.query("""
            UPDATE runs SET status = ?2, sequence = ?3, attempts = ?4, worker = ?5, started_at = ?6,
                finished_at = ?7, queue_wait_ms = ?8, duration_ms = ?9, result = ?10,
                error_code = ?11, error_field = ?12, error_message = ?13
            WHERE run_id = ?1 AND sequence = ?14
            RETURNING \(Self.columns)
            """, [
                .text(r.runID), .text(r.status.rawValue), .int(r.sequence), .int(Int64(r.attempts)),
                .text(r.worker), .date(r.startedAt), .date(r.finishedAt), .double(r.queueWaitMs),
                .double(r.durationMs), .data(r.result), .string(r.error?.code),
                .string(r.error?.field), .string(r.error?.message), .int(expectedSequence),
            ]).first else {
            return nil
        }
        return try Self.decodeRun(row)
    }
}
