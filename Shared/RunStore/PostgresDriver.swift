import Foundation

/// `RunStoreDriver` over one libpq connection: explicit transactions, `FOR UPDATE` row locks,
/// `INSERT ... ON CONFLICT (request_id) DO NOTHING`, prepared statements.
final class PostgresDriver: RunStoreDriver {
    let conn: PGConnection

    init(_ conn: PGConnection) { self.conn = conn }

    /// The columns of a `RunRecord`, in `decodeRun` order.
    static let columns = """
        run_id, request_id, service, kind, status, sequence, config::text, git_commit, worker, attempts, \
        extract(epoch FROM created_at)::float8, extract(epoch FROM started_at)::float8, \
        extract(epoch FROM finished_at)::float8, queue_wait_ms, duration_ms, result, \
        error_code, error_field, error_message
        """

    static func decodeRun(_ row: [String?]) throws -> RunRecord {
        guard row.count == 19 else {
            throw RunStoreError.database("run row has \(row.count) columns, expected 19")
        }
        guard let statusText = row[4], let status = RunStatus(rawValue: statusText) else {
            throw RunStoreError.database("run \(row[0] ?? "?") has unknown status '\(row[4] ?? "NULL")'")
        }
        let error = row[16].map { RunError(code: $0, field: row[17] ?? "", message: row[18] ?? "") }
        return RunRecord(
            runID: row[0] ?? "", requestID: row[1] ?? "", service: row[2] ?? "", kind: row[3] ?? "",
            status: status, sequence: PGDecode.int(row[5]) ?? 0, configJSON: row[6] ?? "{}",
            gitCommit: row[7] ?? "", worker: row[8] ?? "", attempts: Int(PGDecode.int(row[9]) ?? 0),
            createdAt: PGDecode.date(row[10]) ?? Date(timeIntervalSince1970: 0),
            startedAt: PGDecode.date(row[11]), finishedAt: PGDecode.date(row[12]),
            queueWaitMs: PGDecode.double(row[13]), durationMs: PGDecode.double(row[14]),
            result: PGDecode.bytes(row[15]), error: error)
    }

    func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try conn.exec("BEGIN")
        do {
            let value = try body()
            try conn.exec("COMMIT")
            return value
        } catch {
            if !conn.isBroken { try? conn.exec("ROLLBACK") }
            throw error
        }
    }

    func insertRun(_ r: RunRecord, enqueuedAt: Date?, requestBody: Data?) throws -> RunRecord? {
        try conn.execute(prepared: "lm_insert_run", sql: """
            INSERT INTO runs (run_id, request_id, service, kind, status, sequence, config, git_commit,
                worker, attempts, created_at, enqueued_at, started_at, finished_at, queue_wait_ms,
                duration_ms, request_body, result, error_code, error_field, error_message)
            VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::jsonb, $8, $9, $10::int,
                to_timestamp($11::float8), to_timestamp($12::float8), to_timestamp($13::float8),
                to_timestamp($14::float8), $15::float8, $16::float8, $17::bytea, $18::bytea,
                $19, $20, $21)
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
        try conn.execute(prepared: "lm_lock_by_request",
                         sql: "SELECT \(Self.columns) FROM runs WHERE request_id = $1 FOR UPDATE",
                         [.text(requestID)]).first.map(Self.decodeRun)
    }

    func lockRun(runID: String) throws -> RunRecord? {
        try conn.execute(prepared: "lm_lock_by_id",
                         sql: "SELECT \(Self.columns) FROM runs WHERE run_id = $1 FOR UPDATE",
                         [.text(runID)]).first.map(Self.decodeRun)
    }

    func readRun(runID: String) throws -> RunRecord? {
        try conn.execute(prepared: "lm_run_by_id", sql: "SELECT \(Self.columns) FROM runs WHERE run_id = $1",
                         [.text(runID)]).first.map(Self.decodeRun)
    }

    func updateRun(_ r: RunRecord, expectedSequence: Int64) throws -> RunRecord? {
        guard let row = try conn.execute(prepared: "lm_update_run", sql: """
            UPDATE runs SET status = $2, sequence = $3::bigint, attempts = $4::int, worker = $5,
                started_at = to_timestamp($6::float8), finished_at = to_timestamp($7::float8),
                queue_wait_ms = $8::float8, duration_ms = $9::float8, result = $10::bytea,
                error_code = $11, error_field = $12, error_message = $13
            WHERE run_id = $1 AND sequence = $14::bigint
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
