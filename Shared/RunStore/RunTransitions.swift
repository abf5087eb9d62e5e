import Foundation

/// The run logic shared by both backends: idempotent begin, lifecycle-checked status changes.
enum RunTransitions {
    static func begin(_ start: RunStart, now: Date, driver: RunStoreDriver) throws -> BeginOutcome {
        try RunStoreValidation.start(start)
        let life = RunLifecycle.started()
        let fresh = RunRecord(
            runID: start.runID, requestID: start.requestID, service: start.service,
            kind: start.kind, status: life.status, sequence: life.sequence,
            configJSON: start.configJSON, gitCommit: start.gitCommit, worker: start.worker,
            attempts: life.attempts, createdAt: now, startedAt: now,
            queueWaitMs: start.enqueuedAt.map { max(0, now.timeIntervalSince($0) * 1000) })
        // Fast path, one statement: the unique request_id makes exactly one inserter win.
        if let inserted = try driver.insertRun(fresh, enqueuedAt: start.enqueuedAt,
                                               requestBody: start.requestBody) {
            return .started(inserted)
        }
        // Seen before: lock the row, then either return the finished outcome or restart.
        return try driver.inTransaction {
            guard var existing = try driver.lockRun(requestID: start.requestID) else {
                throw RunStoreError.database(
                    "request_id \(start.requestID) conflicted on insert but no row was found")
            }
            if existing.status.isTerminal { return .finished(existing) }
            if start.firstDelivery { return .inProgress(existing) }
            var restarted = RunLifecycle(existing)
            try restarted.restart()
            existing.apply(restarted)
            existing.worker = start.worker
            existing.startedAt = now
            existing.finishedAt = nil
            existing.durationMs = nil
            return .restarted(try locked(driver.updateRun(existing, expectedSequence: restarted.sequence - 1)))
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
        return try compareAndSet(runID: runID, driver: driver) { record in
            // Re-recording the same terminal status (a retried call) returns the stored outcome.
            if record.status == status { return nil }
            var life = RunLifecycle(record)
            try life.transition(to: status)
            record.apply(life)
            record.finishedAt = now
            record.durationMs = record.startedAt.map { max(0, now.timeIntervalSince($0) * 1000) }
            record.result = result
            record.error = error
            return record
        }
    }

    /// Read, change through the lifecycle, write if the sequence did not move; retried when a
    /// concurrent writer got in between. `change` returns nil to keep the stored record as is.
    private static func compareAndSet(runID: String, driver: RunStoreDriver,
                                      _ change: (inout RunRecord) throws -> RunRecord?) throws -> RunRecord {
        for _ in 0..<100 {
            guard var record = try driver.readRun(runID: runID) else {
                throw RunStoreError.notFound(runID: runID)
            }
            let expected = record.sequence
            guard let changed = try change(&record) else { return record }
            if let stored = try driver.updateRun(changed, expectedSequence: expected) { return stored }
        }
        throw RunStoreError.database("run \(runID) kept changing under 100 concurrent updates")
    }

    /// Under a row lock the compare-and-set cannot lose.
    private static func locked(_ stored: RunRecord?) throws -> RunRecord {
        guard let stored else { throw RunStoreError.database("locked run changed concurrently") }
        return stored
    }

    static func update(runID: String, to status: RunStatus, now: Date,
                       driver: RunStoreDriver) throws -> RunRecord {
        try RunStoreValidation.id(runID, field: "run_id")
        guard !status.isTerminal else {
            throw RunStoreError.invalidArgument(
                field: "status", message: "is \(status.rawValue); updateStatus takes queued or running "
                    + "(use finishRun for terminal statuses)")
        }
        return try compareAndSet(runID: runID, driver: driver) { record in
            var life = RunLifecycle(record)
            try life.transition(to: status)
            record.apply(life)
            if status == .running {
                record.startedAt = now
                record.finishedAt = nil
                record.durationMs = nil
            }
            return record
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
            let expected = existing.sequence
            var dead = RunLifecycle(existing)
            try dead.transition(to: .deadLettered)
            existing.apply(dead)
            existing.finishedAt = now
            existing.durationMs = existing.startedAt.map { max(0, now.timeIntervalSince($0) * 1000) }
            existing.error = error
            return try locked(driver.updateRun(existing, expectedSequence: expected))
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
