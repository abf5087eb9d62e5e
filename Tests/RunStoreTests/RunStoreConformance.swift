import Foundation
import XCTest
@testable import RunStore

/// Behaviour every `RunStore` backend must show; run against SQLite and Postgres.
/// Each check gets a fresh namespace (schema / file), destroyed afterwards.
struct RunStoreConformance {
    let makeNamespace: () throws -> StoreNamespace

    func withStore(eventBatchSize: Int = 256, _ body: (RunStore, StoreNamespace) throws -> Void) throws {
        let namespace = try makeNamespace()
        defer { namespace.destroy() }
        let store = try namespace.openMigrated(eventBatchSize: eventBatchSize)
        defer { store.close() }
        try body(store, namespace)
    }

    func beginFinishAndDuplicateReturnsStoredResult() throws {
        try withStore { store, _ in
            let start = makeStart(body: Data([1, 2, 3]))
            guard case .started(let started) = try store.beginRun(start) else {
                return XCTFail("first begin must start")
            }
            XCTAssertEqual(started.status, .running)
            XCTAssertEqual(started.sequence, 1)
            XCTAssertEqual(started.attempts, 1)
            XCTAssertEqual(started.worker, "w1")
            XCTAssertEqual(started.gitCommit, "abc1234")
            XCTAssertNotNil(started.startedAt)
            XCTAssertGreaterThanOrEqual(started.queueWaitMs ?? -1, 200)
            let config = try JSONSerialization.jsonObject(with: Data(started.configJSON.utf8)) as? [String: Any]
            XCTAssertEqual(config?["vocab"] as? Int, 512)

            let payload = Data([0, 255, 0, 42, 7])
            let finished = try store.finishRun(runID: start.runID, status: .succeeded, result: payload, error: nil)
            XCTAssertEqual(finished.status, .succeeded)
            XCTAssertEqual(finished.sequence, 2)
            XCTAssertEqual(finished.result, payload)
            XCTAssertNotNil(finished.finishedAt)
            XCTAssertGreaterThanOrEqual(finished.durationMs ?? -1, 0)

            // A redelivery (other worker, other generated run id) gets the stored result.
            var again = start
            again.runID = "run-\(uniqueID("other"))"
            again.worker = "w2"
            guard case .finished(let stored) = try store.beginRun(again) else {
                return XCTFail("a finished request must not start again")
            }
            XCTAssertEqual(stored.runID, start.runID)
            XCTAssertEqual(stored.result, payload)
            XCTAssertEqual(stored.attempts, 1)
            XCTAssertEqual(stored, finished)
            XCTAssertNil(try store.run(id: again.runID), "no second run row")
            XCTAssertEqual(try store.run(requestID: start.requestID), finished)
            XCTAssertEqual(try store.run(id: start.runID), finished)

            // Re-recording the same terminal status is idempotent; another terminal status is refused.
            XCTAssertEqual(try store.finishRun(runID: start.runID, status: .succeeded, result: Data([9]), error: nil),
                           finished)
            XCTAssertThrowsError(try store.finishRun(runID: start.runID, status: .failed, result: nil,
                                                     error: RunError(code: "INTERNAL", message: "x"))) {
                XCTAssertEqual($0 as? RunStoreError, .invalidTransition(from: .succeeded, to: .failed))
            }
        }
    }

    func restartAfterCrashIncrementsAttempts() throws {
        try withStore { store, _ in
            let start = makeStart()
            guard case .started = try store.beginRun(start) else { return XCTFail("must start") }
            var redelivered = start
            redelivered.worker = "w2"
            guard case .restarted(let second) = try store.beginRun(redelivered) else {
                return XCTFail("an unfinished run must restart")
            }
            XCTAssertEqual(second.runID, start.runID)
            XCTAssertEqual(second.status, .running)
            XCTAssertEqual(second.attempts, 2)
            XCTAssertEqual(second.sequence, 2)
            XCTAssertEqual(second.worker, "w2")
            guard case .restarted(let third) = try store.beginRun(redelivered) else { return XCTFail("restart") }
            XCTAssertEqual(third.attempts, 3)
            let failed = try store.finishRun(runID: start.runID, status: .failed, result: nil,
                                             error: RunError(code: "INTERNAL", field: "", message: "out of memory"))
            XCTAssertEqual(failed.sequence, 4)
            XCTAssertEqual(failed.error, RunError(code: "INTERNAL", field: "", message: "out of memory"))
            XCTAssertNil(failed.result)
            guard case .finished(let stored) = try store.beginRun(redelivered) else { return XCTFail("finished") }
            XCTAssertEqual(stored.error?.message, "out of memory")
            XCTAssertEqual(stored.attempts, 3)
        }
    }

    /// A second publish of a request whose run is still in progress (a first delivery, not a
    /// redelivery) changes nothing and is told to wait; once finished it gets the stored outcome.
    func secondPublishWaitsForRunInProgress() throws {
        try withStore { store, _ in
            let start = makeStart()
            guard case .started(let first) = try store.beginRun(start) else { return XCTFail("must start") }
            var retry = start
            retry.worker = "w2"
            retry.runID = "other-\(start.runID)"
            retry.firstDelivery = true
            guard case .inProgress(let seen) = try store.beginRun(retry) else {
                return XCTFail("a first delivery of a running request must wait, not restart")
            }
            XCTAssertEqual(seen.runID, start.runID)
            XCTAssertEqual(seen.attempts, 1)
            XCTAssertEqual(seen.sequence, first.sequence)
            XCTAssertEqual(seen.worker, start.worker)
            try store.finishRun(runID: start.runID, status: .succeeded, result: Data([7]), error: nil)
            guard case .finished(let done) = try store.beginRun(retry) else { return XCTFail("finished") }
            XCTAssertEqual(done.result, Data([7]))
            XCTAssertEqual(done.attempts, 1)
        }
    }

    /// Several connections race `beginRun` on the same request ids: exactly one `.started` each.
    func concurrentBeginYieldsExactlyOneStarted() throws {
        let namespace = try makeNamespace()
        defer { namespace.destroy() }
        let stores = try (0..<4).map { _ in try namespace.openMigrated() }
        defer { stores.forEach { $0.close() } }
        for round in 0..<3 {
            let tag = uniqueID("race\(round)")
            let racers = 12
            let lock = NSLock()
            var outcomes: [BeginOutcome] = []
            var failures: [String] = []
            DispatchQueue.concurrentPerform(iterations: racers) { i in
                var start = makeStart(tag, worker: "w\(i)")
                start.runID = "run-\(tag)-\(i)"
                do {
                    let outcome = try stores[i % stores.count].beginRun(start)
                    lock.lock(); outcomes.append(outcome); lock.unlock()
                } catch {
                    lock.lock(); failures.append("\(error)"); lock.unlock()
                }
            }
            XCTAssertEqual(failures, [])
            let started = outcomes.filter { if case .started = $0 { return true } else { return false } }
            let restarted = outcomes.filter { if case .restarted = $0 { return true } else { return false } }
            XCTAssertEqual(started.count, 1, "exactly one racer starts the run")
            XCTAssertEqual(restarted.count, racers - 1)
            let record = try XCTUnwrap(try stores[0].run(requestID: "req-\(tag)"))
            XCTAssertEqual(record.attempts, racers)
            XCTAssertEqual(record.sequence, Int64(racers))
            let sequences = restarted.compactMap { outcome -> Int64? in
                if case .restarted(let r) = outcome { return r.sequence } else { return nil }
            }
            XCTAssertEqual(Set(sequences).count, racers - 1, "every restart saw its own sequence number")
        }
    }

    /// Racing finishers with different outcomes: exactly one terminal status wins, sequence 2.
    func concurrentFinishHasOneWinner() throws {
        let namespace = try makeNamespace()
        defer { namespace.destroy() }
        let stores = try (0..<4).map { _ in try namespace.openMigrated() }
        defer { stores.forEach { $0.close() } }
        let start = makeStart()
        _ = try stores[0].beginRun(start)
        let lock = NSLock()
        var finished: [RunRecord] = []
        var refused: [RunStoreError] = []
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let status: RunStatus = i % 2 == 0 ? .succeeded : .failed
            do {
                let record = try stores[i % 4].finishRun(runID: start.runID, status: status,
                                                         result: Data([UInt8(i)]), error: nil)
                lock.lock(); finished.append(record); lock.unlock()
            } catch {
                lock.lock(); refused.append(error as? RunStoreError ?? .database("\(error)")); lock.unlock()
            }
        }
        let stored = try XCTUnwrap(try stores[1].run(id: start.runID))
        XCTAssertEqual(stored.sequence, 2)
        XCTAssertEqual(finished.count, 4, "every finisher with the winning status gets the stored record")
        XCTAssertTrue(finished.allSatisfy { $0 == stored })
        let loser: RunStatus = stored.status == .succeeded ? .failed : .succeeded
        XCTAssertEqual(refused, Array(repeating: .invalidTransition(from: stored.status, to: loser), count: 4))
    }

    func sequenceStrictlyIncreasesAndInvalidTransitionsAreRefused() throws {
        try withStore { store, _ in
            let start = makeStart()
            guard case .started(let first) = try store.beginRun(start) else { return XCTFail("start") }
            var sequences = [first.sequence]
            let requeued = try store.updateStatus(runID: start.runID, to: .queued)
            XCTAssertEqual(requeued.status, .queued)
            sequences.append(requeued.sequence)
            let running = try store.updateStatus(runID: start.runID, to: .running)
            XCTAssertEqual(running.attempts, 2)
            sequences.append(running.sequence)
            XCTAssertThrowsError(try store.updateStatus(runID: start.runID, to: .succeeded)) {
                guard case .invalidArgument(let field, _) = $0 as? RunStoreError else { return XCTFail("\($0)") }
                XCTAssertEqual(field, "status")
            }
            XCTAssertThrowsError(try store.finishRun(runID: start.runID, status: .running, result: nil, error: nil))
            let cancelled = try store.finishRun(runID: start.runID, status: .cancelled, result: nil,
                                                error: RunError(code: "CANCELLED", message: "by user"))
            sequences.append(cancelled.sequence)
            XCTAssertEqual(sequences, [1, 2, 3, 4])
            XCTAssertThrowsError(try store.updateStatus(runID: start.runID, to: .running)) {
                XCTAssertEqual($0 as? RunStoreError, .invalidTransition(from: .cancelled, to: .running))
            }
            XCTAssertEqual(try store.run(id: start.runID)?.sequence, 4, "a refused transition changes nothing")
            XCTAssertThrowsError(try store.updateStatus(runID: "run-missing", to: .queued)) {
                XCTAssertEqual($0 as? RunStoreError, .notFound(runID: "run-missing"))
            }
            XCTAssertThrowsError(try store.finishRun(runID: "run-missing", status: .failed, result: nil, error: nil)) {
                XCTAssertEqual($0 as? RunStoreError, .notFound(runID: "run-missing"))
            }
        }
    }

    func eventsAreBatchedAndReadBackInOrder() throws {
        let namespace = try makeNamespace()
        defer { namespace.destroy() }
        let writer = try namespace.openMigrated(eventBatchSize: 5)
        let reader = try namespace.openMigrated()
        defer { writer.close(); reader.close() }
        let start = makeStart()
        _ = try writer.beginRun(start)
        let base = Date(timeIntervalSince1970: 1_700_000_000.25)
        for i in 0..<12 {
            try writer.appendEvent(RunEvent(runID: start.runID, type: i % 3 == 0 ? "status" : "progress",
                                            payloadJSON: #"{"step": \#(i), "loss": 0.5}"#,
                                            at: base.addingTimeInterval(Double(i))))
        }
        // Two full batches of 5 are written; the last 2 wait in the writer's buffer.
        XCTAssertEqual(try reader.events(runID: start.runID, limit: 100).count, 10)
        try writer.flush()
        let events = try reader.events(runID: start.runID, limit: 100)
        XCTAssertEqual(events.count, 12)
        for (i, event) in events.enumerated() {
            XCTAssertEqual(event.runID, start.runID)
            XCTAssertEqual(event.type, i % 3 == 0 ? "status" : "progress")
            let payload = try JSONSerialization.jsonObject(with: Data(event.payloadJSON.utf8)) as? [String: Any]
            XCTAssertEqual(payload?["step"] as? Int, i)
            XCTAssertEqual(event.at.timeIntervalSince1970, base.timeIntervalSince1970 + Double(i), accuracy: 1e-3)
        }
        XCTAssertEqual(try reader.events(runID: start.runID, limit: 4).count, 4)
        XCTAssertEqual(try reader.events(runID: "run-other", limit: 10), [])
        // Reading through the writer flushes its own buffer first.
        try writer.appendEvent(RunEvent(runID: start.runID, type: "log", payloadJSON: #""done""#))
        XCTAssertEqual(try writer.events(runID: start.runID, limit: 100).last?.payloadJSON, #""done""#)
        // A buffered event older than the flush interval is written on the next append.
        let eager = try namespace.openMigrated(eventBatchSize: 1000, eventFlushInterval: 0.05)
        defer { eager.close() }
        let other = makeStart()
        try eager.appendEvent(RunEvent(runID: other.runID, type: "log", payloadJSON: "1"))
        XCTAssertEqual(try reader.events(runID: other.runID, limit: 10).count, 0, "still buffered")
        Thread.sleep(forTimeInterval: 0.1)
        try eager.appendEvent(RunEvent(runID: other.runID, type: "log", payloadJSON: "2"))
        XCTAssertEqual(try reader.events(runID: other.runID, limit: 10).map(\.payloadJSON), ["1", "2"])
        XCTAssertThrowsError(try writer.appendEvent(RunEvent(runID: start.runID, type: "log", payloadJSON: "{oops"))) {
            guard case .invalidArgument(let field, _) = $0 as? RunStoreError else { return XCTFail("\($0)") }
            XCTAssertEqual(field, "event.payload")
        }
    }

    func listRunsFilters() throws {
        try withStore { store, _ in
            let service = uniqueID("svc")
            var ids: [String: RunStatus] = [:]
            for i in 0..<6 {
                let start = makeStart(uniqueID("l\(i)"), service: service, kind: i % 2 == 0 ? "a.run" : "b.run")
                _ = try store.beginRun(start)
                if i < 3 {
                    try store.finishRun(runID: start.runID, status: .succeeded, result: Data([UInt8(i)]), error: nil)
                    ids[start.runID] = .succeeded
                } else {
                    ids[start.runID] = .running
                }
            }
            _ = try store.beginRun(makeStart(service: uniqueID("other")))
            let all = try store.listRuns(RunQuery(service: service))
            XCTAssertEqual(Set(all.map(\.runID)), Set(ids.keys))
            XCTAssertEqual(all.map(\.createdAt), all.map(\.createdAt).sorted(by: >), "newest first")
            let succeeded = try store.listRuns(RunQuery(service: service, status: .succeeded))
            XCTAssertEqual(Set(succeeded.map(\.runID)), Set(ids.filter { $0.value == .succeeded }.keys))
            let kindB = try store.listRuns(RunQuery(service: service, kind: "b.run"))
            XCTAssertEqual(kindB.count, 3)
            XCTAssertTrue(kindB.allSatisfy { $0.kind == "b.run" && $0.service == service })
            let runningA = try store.listRuns(RunQuery(service: service, status: .running, kind: "a.run"))
            XCTAssertEqual(runningA.count, 1)
            XCTAssertEqual(try store.listRuns(RunQuery(service: service, limit: 2)).count, 2)
            XCTAssertGreaterThanOrEqual(try store.listRuns(RunQuery(limit: 100)).count, 7)
            XCTAssertThrowsError(try store.listRuns(RunQuery(limit: -1))) {
                guard case .invalidArgument(let field, _) = $0 as? RunStoreError else { return XCTFail("\($0)") }
                XCTAssertEqual(field, "limit")
            }
        }
    }

    func rejectedRequestIsDeadLetteredAndNeverRuns() throws {
        try withStore { store, _ in
            let start = makeStart()
            let error = RunError(code: "INVALID_ARGUMENT", field: "text", message: "not valid protobuf")
            let rejected = try store.recordRejected(start, error: error)
            XCTAssertEqual(rejected.status, .deadLettered)
            XCTAssertEqual(rejected.sequence, 1)
            XCTAssertEqual(rejected.attempts, 0)
            XCTAssertEqual(rejected.error, error)
            guard case .finished(let stored) = try store.beginRun(start) else { return XCTFail("never runs") }
            XCTAssertEqual(stored.error, error)
            // A running request that is later rejected (e.g. delivery limit) is dead-lettered with sequence + 1.
            let other = makeStart()
            _ = try store.beginRun(other)
            let dead = try store.recordRejected(other, error: RunError(code: "UNAVAILABLE", message: "delivery limit"))
            XCTAssertEqual(dead.status, .deadLettered)
            XCTAssertEqual(dead.sequence, 2)
            XCTAssertEqual(dead.attempts, 1)
        }
    }

    func bytesRoundTrip() throws {
        try withStore { store, _ in
            let big = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            for payload in [Data(), Data([0, 0, 0]), big] {
                let start = makeStart(body: payload)
                _ = try store.beginRun(start)
                let done = try store.finishRun(runID: start.runID, status: .succeeded, result: payload, error: nil)
                XCTAssertEqual(done.result, payload)
                XCTAssertEqual(try store.run(id: start.runID)?.result, payload)
            }
            let noResult = makeStart()
            _ = try store.beginRun(noResult)
            XCTAssertNil(try store.finishRun(runID: noResult.runID, status: .cancelled, result: nil, error: nil).result)
        }
    }

    func invalidInputNamesTheField() throws {
        try withStore { store, _ in
            func field(_ body: () throws -> Void) -> String? {
                do { try body() } catch RunStoreError.invalidArgument(let field, _) { return field } catch {
                    return "unexpected \(error)"
                }
                return nil
            }
            var start = makeStart()
            start.requestID = ""
            XCTAssertEqual(field { _ = try store.beginRun(start) }, "request_id")
            start = makeStart()
            start.configJSON = "{not json"
            XCTAssertEqual(field { _ = try store.beginRun(start) }, "config")
            start = makeStart()
            start.runID = String(repeating: "x", count: 201)
            XCTAssertEqual(field { _ = try store.beginRun(start) }, "run_id")
            XCTAssertEqual(field { try store.recordArtifact(ArtifactRecord(sha256: "abc", size: 1, path: "a", mediaType: "x")) },
                           "sha256")
            XCTAssertNil(try store.run(requestID: start.requestID))
        }
    }
}
