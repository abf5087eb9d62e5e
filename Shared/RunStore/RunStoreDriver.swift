import Foundation

/// The row-level primitives a backend gives the shared run logic (`RunTransitions`).
/// Called with the store's connection lock held.
protocol RunStoreDriver: AnyObject {
    /// Runs `body` in a write transaction: Postgres `BEGIN`/`COMMIT` with rows locked by
    /// `SELECT ... FOR UPDATE`; SQLite `BEGIN IMMEDIATE` (the database write lock).
    func inTransaction<T>(_ body: () throws -> T) throws -> T
    /// Inserts a run unless its request_id exists (`ON CONFLICT (request_id) DO NOTHING`);
    /// returns the stored row, or nil on conflict.
    func insertRun(_ record: RunRecord, enqueuedAt: Date?, requestBody: Data?) throws -> RunRecord?
    /// Reads a run and locks its row until the transaction ends.
    func lockRun(requestID: String) throws -> RunRecord?
    func lockRun(runID: String) throws -> RunRecord?
    /// Writes the mutable state of a run (status, sequence, attempts, worker, timings, result,
    /// error) and returns the stored row.
    func updateRun(_ record: RunRecord) throws -> RunRecord
}

/// The run logic shared by both backends: idempotent begin, lifecycle-checked status changes.
enum RunTransitions {
    static func begin(_ start: RunStart, now: Date, driver: RunStoreDriver) throws -> BeginOutcome {
        try RunStoreValidation.start(start)
        return try driver.inTransaction {
            let life = RunLifecycle.started()
            let fresh = RunRecord(
                runID: start.runID, requestID: start.requestID, service: start.service,
                kind: start.kind, status: life.status, sequence: life.sequence,
                configJSON: start.configJSON, gitCommit: start.gitCommit, worker: start.worker,
                attempts: life.attempts, createdAt: now, startedAt: now,
                queueWaitMs: start.enqueuedAt.map { max(0, now.timeIntervalSince($0) * 1000) })
            if let inserted = try driver.insertRun(fresh, enqueuedAt: start.enqueuedAt,
                                                   requestBody: start.requestBody) {
                return .started(inserted)
            }
            guard var existing = try driver.lockRun(requestID: start.requestID) else {
                throw RunStoreError.database(
                    "request_id \(start.requestID) conflicted on insert but no row was found")
            }
            if existing.status.isTerminal { return .finished(existing) }
            var restarted = RunLifecycle(existing)
            try restarted.restart()
            existing.apply(restarted)
            existing.worker = start.worker
            existing.startedAt = now
            existing.finishedAt = nil
            existing.durationMs = nil
            return .restarted(try driver.updateRun(existing))
        }
    }

    static func finish(runID: String, status: RunStatus, result: Data?, error: RunError?,
                       now: Date, driver: RunStoreDriver) throws -> RunRecord {
        try RunStoreValidation.id(runID, field: "run_id")
        guard status.isTerminal else {
            throw RunStoreError.invalidArgument(
                field: "status",
                message: "is \(status.rawValue); finishRun needs succeeded, failed, cancelled or dead_lettered")
        }
        try RunStoreValidation.error(error)
        return try driver.inTransaction {
            guard var record = try driver.lockRun(runID: runID) else {
                throw RunStoreError.notFound(runID: runID)
            }
            // Re-recording the same terminal status (a retried call) returns the stored outcome.
            if record.status == status { return record }
            var life = RunLifecycle(record)
            try life.transition(to: status)
            record.apply(life)
            record.finishedAt = now
            record.durationMs = record.startedAt.map { max(0, now.timeIntervalSince($0) * 1000) }
            record.result = result
            record.error = error
            return try driver.updateRun(record)
        }
    }

    static func update(runID: String, to status: RunStatus, now: Date,
                       driver: RunStoreDriver) throws -> RunRecord {
        try RunStoreValidation.id(runID, field: "run_id")
        guard !status.isTerminal else {
            throw RunStoreError.invalidArgument(
                field: "status", message: "is \(status.rawValue); updateStatus takes queued or running "
                    + "(use finishRun for terminal statuses)")
        }
        return try driver.inTransaction {
            guard var record = try driver.lockRun(runID: runID) else {
                throw RunStoreError.notFound(runID: runID)
            }
            var life = RunLifecycle(record)
            try life.transition(to: status)
            record.apply(life)
            if status == .running {
                record.startedAt = now
                record.finishedAt = nil
                record.durationMs = nil
            }
            return try driver.updateRun(record)
        }
    }

    static func reject(_ start: RunStart, error: RunError, now: Date,
                       driver: RunStoreDriver) throws -> RunRecord {
        try RunStoreValidation.start(start)
        try RunStoreValidation.error(error)
        return try driver.inTransaction {
            let life = RunLifecycle.rejected()
            let fresh = RunRecord(
                runID: start.runID, requestID: start.requestID, service: start.service,
                kind: start.kind, status: life.status, sequence: life.sequence,
                configJSON: start.configJSON, gitCommit: start.gitCommit, worker: start.worker,
                attempts: life.attempts, createdAt: now, finishedAt: now,
                queueWaitMs: start.enqueuedAt.map { max(0, now.timeIntervalSince($0) * 1000) },
                error: error)
            if let inserted = try driver.insertRun(fresh, enqueuedAt: start.enqueuedAt,
                                                   requestBody: start.requestBody) {
                return inserted
            }
            guard var existing = try driver.lockRun(requestID: start.requestID) else {
                throw RunStoreError.database(
                    "request_id \(start.requestID) conflicted on insert but no row was found")
            }
            if existing.status.isTerminal { return existing }
            var dead = RunLifecycle(existing)
            try dead.transition(to: .deadLettered)
            existing.apply(dead)
            existing.finishedAt = now
            existing.durationMs = existing.startedAt.map { max(0, now.timeIntervalSince($0) * 1000) }
            existing.error = error
            return try driver.updateRun(existing)
        }
    }
}

extension RunRecord {
    /// Copies status, sequence and attempts from a lifecycle value.
    mutating func apply(_ life: RunLifecycle) {
        status = life.status
        sequence = life.sequence
        attempts = life.attempts
    }
}
