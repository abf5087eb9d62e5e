import Foundation

/// Run events: buffered in memory, written in batches through libpq pipeline mode (one prepared
/// INSERT per event, one sync point per batch, so a batch is one transaction and one round trip).
extension PostgresRunStore {
    static let insertEventSQL = """
        INSERT INTO run_events (run_id, type, payload, at) VALUES ($1, $2, $3::jsonb, to_timestamp($4::float8))
        """
    /// Largest number of statements sent before one sync point.
    static let maxPipelineChunk = 1_000

    public func appendEvent(_ event: RunEvent) throws {
        try RunStoreValidation.event(event)
        lock.lock()
        defer { lock.unlock() }
        guard connection != nil else { throw RunStoreError.closed }
        let now = Date()
        if pendingEvents.isEmpty { pendingSince = now }
        pendingEvents.append(event)
        if pendingEvents.count >= eventBatchSize
            || now.timeIntervalSince(pendingSince ?? now) >= eventFlushInterval {
            try flushLocked()
        }
    }

    public func flush() throws {
        lock.lock()
        defer { lock.unlock() }
        try flushLocked()
    }

    /// Number of events buffered and not yet written.
    public var pendingEventCount: Int {
        lock.lock(); defer { lock.unlock() }
        return pendingEvents.count
    }

    /// Writes the buffer chunk by chunk. A chunk that fails on a broken connection stays buffered
    /// (the next flush retries it); a chunk the server rejects is dropped and the error thrown.
    func flushLocked() throws {
        while !pendingEvents.isEmpty {
            let chunk = Array(pendingEvents.prefix(Self.maxPipelineChunk))
            let rows: [[PGValue]] = chunk.map {
                [.text($0.runID), .text($0.type), .text($0.payloadJSON), .date($0.at)]
            }
            do {
                try withConnectionLocked { conn in
                    try conn.pipelined(prepared: "lm_insert_event", sql: Self.insertEventSQL,
                                       paramCount: 4, batch: rows)
                }
            } catch let error as RunStoreError {
                if case .connection = error { throw error }
                if case .closed = error { throw error }
                pendingEvents.removeFirst(chunk.count)
                if pendingEvents.isEmpty { pendingSince = nil }
                throw error
            }
            pendingEvents.removeFirst(chunk.count)
        }
        pendingSince = nil
    }

    public func events(runID: String, limit: Int) throws -> [RunEvent] {
        try RunStoreValidation.limit(limit, field: "limit")
        lock.lock()
        defer { lock.unlock() }
        try flushLocked()
        return try withConnectionLocked { conn in
            try conn.execute(prepared: "lm_events", sql: """
                SELECT run_id, type, payload::text, extract(epoch FROM at)::float8
                FROM run_events WHERE run_id = $1 ORDER BY id LIMIT $2::int
                """, [.text(runID), .int(Int64(limit))]).rows.map { row in
                RunEvent(runID: row[0] ?? "", type: row[1] ?? "", payloadJSON: row[2] ?? "null",
                         at: PGDecode.date(row[3]) ?? Date(timeIntervalSince1970: 0))
            }
        }
    }
}
