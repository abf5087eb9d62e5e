import Foundation
import Logging
import Metrics
import MeshProto
import RunStore
import SwiftProtobuf

extension ServiceRuntime {
    /// Handles one delivery end to end. Order: record start -> run -> record outcome ->
    /// publish reply (confirmed) -> ack. Any failure before the ack leaves the message with
    /// the broker (nack + requeue), so nothing is lost; the store makes the retry idempotent.
    func process(_ delivery: Delivery) async {
        let received = Date()
        let kind = MeshTopology.method(ofRoutingKey: delivery.routingKey.isEmpty ? (delivery.properties.type ?? "") : delivery.routingKey)
        let dims = [("service", definition.name), ("kind", kind)]
        if let ts = delivery.properties.timestampMs, ts > 0 {
            let waitNs = max(0, Int64((received.timeIntervalSince1970 * 1000 - Double(ts)) * 1_000_000))
            Timer(label: "mesh_queue_wait_seconds", dimensions: dims).recordNanoseconds(waitNs)
        }

        // 0. The size limit, before anything is decoded.
        guard delivery.body.count <= config.maxMessageBytes else {
            await deadLetter(delivery, kind: kind, requestID: delivery.properties.messageID ?? UUID().uuidString,
                             runID: UUID().uuidString,
                             reason: "message.size: \(delivery.body.count) bytes exceeds the limit of \(config.maxMessageBytes) bytes (max_message_bytes)")
            return
        }

        // 1. The header: a body that isn't even a request is dead-lettered and recorded.
        // Only field 1 matters here: don't copy the rest of the body into unknown fields.
        var headerOptions = BinaryDecodingOptions()
        headerOptions.discardUnknownFields = true
        guard let header = try? Latentmesh_V1_RequestHeader(serializedBytes: delivery.body, options: headerOptions) else {
            await deadLetter(delivery, kind: kind, requestID: delivery.properties.messageID ?? UUID().uuidString,
                             runID: UUID().uuidString, reason: "body is not a protobuf request (RequestMeta at field 1)")
            return
        }
        let meta = header.meta
        let requestID = !meta.requestID.isEmpty ? meta.requestID
            : (delivery.properties.messageID ?? delivery.properties.correlationID ?? UUID().uuidString)
        // A request this worker abandoned as stalled goes to another worker while there are retries left.
        if state.abandonedHere(requestID), delivery.deliveryCount < MeshTopology.deliveryLimit - 2 {
            try? await Task.sleep(nanoseconds: 200_000_000)
            try? await delivery.nack(requeue: true)
            return
        }
        let proposedRunID = meta.runID.isEmpty ? UUID().uuidString.lowercased() : meta.runID
        let start = RunStart(runID: proposedRunID, requestID: requestID, service: definition.name, kind: kind,
                             worker: config.worker, configJSON: configJSON, gitCommit: gitCommit,
                             enqueuedAt: delivery.properties.timestampMs.map { Date(timeIntervalSince1970: Double($0) / 1000) },
                             requestBody: delivery.body,
                             firstDelivery: delivery.deliveryCount == 0 && !delivery.redelivered)

        // 2. Idempotency: a finished run is answered from the store.
        let begin: BeginOutcome
        do {
            begin = try await withStoreRetry("begin \(requestID)", dims: dims) { try store.beginRun(start) }
        } catch {
            logger.error("store unavailable, requeueing \(requestID): \(error)")
            try? await delivery.nack(requeue: true)
            return
        }
        let record: RunRecord
        switch begin {
        case .finished(let stored):
            logger.info("request \(requestID) already finished as \(stored.status.rawValue): re-sending stored outcome")
            Counter(label: "mesh_requests_total", dimensions: dims + [("outcome", "from_store")]).increment()
            await replyAndAck(delivery, record: stored, fromStore: true)
            return
        case .inProgress(let running):
            // A second publish of a request still running (a client retry after a dropped
            // connection): it carries no new work, so it is acked and answered when that run ends.
            logger.info("request \(requestID) is \(running.status.rawValue) as run \(running.runID) on \(running.worker): answering this publish when it finishes")
            Counter(label: "mesh_requests_total", dimensions: dims + [("outcome", "attached")]).increment()
            try? await delivery.ack()
            Task { [self] in await replyWhenFinished(delivery, running: running, deadlineUnixMs: meta.deadlineUnixMs) }
            return
        case .started(let r), .restarted(let r):
            record = r
        }

        // 3. Run the method.
        let context = RunContext(
            runID: record.runID, requestID: requestID, service: definition.name, kind: kind, worker: config.worker,
            attempt: record.attempts,
            deadline: meta.deadlineUnixMs > 0 ? Date(timeIntervalSince1970: Double(meta.deadlineUnixMs) / 1000) : nil,
            logger: logger.with(runID: record.runID), store: store, artifacts: artifacts,
            emit: { [runEvents] event in runEvents.enqueue(event) })
        state.register(context, delivery: delivery)
        // Status events are best effort and off the critical path (watchers order them by sequence).
        Task { [self] in await publishStatus(record, status: .running) }
        let outcome: Result<Data, Error>
        let began = DispatchTime.now().uptimeNanoseconds
        if let method = definitionWithBackbone.method(for: kind) {
            do {
                try context.checkCancelled()
                outcome = .success(try await method.body(delivery.body, context))
            } catch {
                outcome = .failure(error)
            }
        } else {
            outcome = .failure(ServiceError(.notFound, field: "routing_key",
                                            "\(definition.name) has no method \(kind); it serves \(definitionWithBackbone.routingKeys.joined(separator: ", "))"))
        }
        Timer(label: "mesh_request_duration_seconds", dimensions: dims)
            .recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - began))
        guard state.finish(record.runID) else {
            // The stall watchdog already gave this delivery back to the broker: drop the late outcome.
            logger.warning("discarding the late outcome of abandoned run \(record.runID) (\(requestID))")
            return
        }

        // 4. Record the outcome.
        if case .failure(let error) = outcome, let serviceError = error as? ServiceError,
           serviceError.code == .cancelled, state.isShuttingDown, context.isCancelled,
           serviceError.message.contains(RuntimeState.shutdownReason) {
            // Interrupted by our own shutdown: give the work back, it will run elsewhere.
            _ = try? store.updateStatus(runID: record.runID, to: .queued)
            try? await delivery.nack(requeue: true)
            logger.info("requeued \(requestID) on shutdown")
            return
        }
        if case .failure(let error) = outcome, Self.isStoreOutage(error) {
            // The store went away under the handler (a database restart): not the request's failure.
            // Wait for the store (bounded), give the work back and let it run again.
            logger.warning("run \(record.runID) (\(requestID)) lost the store mid-run (\(error)); requeueing it once the store is back")
            _ = try? await withStoreRetry("requeue \(requestID)", dims: dims) { try store.updateStatus(runID: record.runID, to: .queued) }
            Counter(label: "mesh_requests_total", dimensions: dims + [("outcome", "requeued_store_outage")]).increment()
            try? await delivery.nack(requeue: true)
            return
        }
        if case .failure(let error) = outcome, let malformed = error as? MalformedRequest {
            await deadLetter(delivery, kind: kind, requestID: requestID, runID: record.runID, reason: malformed.reason,
                             alreadyBegun: true)
            return
        }
        let status: RunStatus
        var resultData: Data?
        var runError: RunError?
        switch outcome {
        case .success(let data):
            status = .succeeded; resultData = data
        case .failure(let error):
            let se = ServiceError.from(error)
            status = se.code == .cancelled ? .cancelled : .failed
            runError = RunError(code: se.code.rawValue, field: se.field, message: se.message)
            if se.code == .internalError { logger.error("run \(record.runID) failed: \(se)") }
        }
        let finished: RunRecord
        do {
            finished = try await withStoreRetry("record outcome of \(requestID)", dims: dims) {
                try store.finishRun(runID: record.runID, status: status, result: resultData, error: runError)
            }
        } catch {
            logger.error("could not record outcome of \(requestID), requeueing: \(error)")
            try? await delivery.nack(requeue: true)
            return
        }
        Counter(label: "mesh_requests_total", dimensions: dims + [("outcome", status.rawValue)]).increment()
        if status != .succeeded {
            Counter(label: "mesh_errors_total", dimensions: dims + [("stage", "handler")]).increment()
        }
        await replyAndAck(delivery, record: finished, fromStore: false)
    }

    /// Whether a handler's error is the store being unreachable (a connection that failed or
    /// closed), which says nothing about the request: it is run again, not recorded as failed.
    public static func isStoreOutage(_ error: Error) -> Bool {
        switch error as? RunStoreError {
        case .connection?, .closed?: return true
        default: return false
        }
    }

    /// Seconds a delivery is held while the store is unavailable before it goes back to the
    /// broker (requeues count against the delivery limit, so a database restart must not burn them).
    static let storeRetryWindow: Double = 120

    /// Runs a store operation, retrying with backoff (0.25 s doubling to 2 s) while it throws,
    /// for up to `storeRetryWindow` seconds or until shutdown; rethrows the last error.
    func withStoreRetry<T>(_ what: String, dims: [(String, String)], _ body: () throws -> T) async throws -> T {
        var delay = 0.25
        let until = Date().addingTimeInterval(Self.storeRetryWindow)
        var warned = false
        while true {
            do { return try body() } catch {
                Counter(label: "mesh_errors_total", dimensions: dims + [("stage", "store")]).increment()
                if Date() > until || state.isShuttingDown { throw error }
                if !warned { logger.warning("store unavailable (\(what)): \(error); retrying"); warned = true }
                try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                delay = min(delay * 2, 2)
            }
        }
    }

    /// Publishes the terminal reply (if the caller wants one), the status event, then acks.
    func replyAndAck(_ delivery: Delivery, record: RunRecord, fromStore: Bool) async {
        do {
            try await publishReply(to: delivery, record: record, fromStore: fromStore)
        } catch {
            logger.error("reply for \(record.requestID) not confirmed, requeueing: \(error)")
            try? await delivery.nack(requeue: true)
            return
        }
        do { try await delivery.ack() } catch { logger.warning("ack of \(record.requestID) failed: \(error)") }
        if !fromStore { Task { [self] in await publishStatus(record, status: record.status) } }
    }

    /// Records an unparseable request and hands it to the dead-letter exchange.
    func deadLetter(_ delivery: Delivery, kind: String, requestID: String, runID: String, reason: String,
                    alreadyBegun: Bool = false) async {
        logger.warning("dead-lettering \(requestID) (\(kind)): \(reason)")
        let error = RunError(code: ServiceError.Code.invalidArgument.rawValue, field: "body", message: reason)
        var record: RunRecord?
        do {
            if alreadyBegun {
                record = try store.finishRun(runID: runID, status: .deadLettered, result: nil, error: error)
            } else {
                let start = RunStart(runID: runID, requestID: requestID, service: definition.name, kind: kind,
                                     worker: config.worker, configJSON: configJSON, gitCommit: gitCommit,
                                     requestBody: delivery.body)
                record = try store.recordRejected(start, error: error)
            }
        } catch {
            logger.error("could not record dead letter \(requestID): \(error)")
        }
        Counter(label: "mesh_requests_total", dimensions: [("service", definition.name), ("kind", kind),
                                                            ("outcome", "dead_lettered")]).increment()
        Counter(label: "mesh_errors_total", dimensions: [("service", definition.name), ("kind", kind),
                                                          ("stage", "malformed")]).increment()
        if let record { try? await publishReply(to: delivery, record: record, fromStore: false) }
        try? await delivery.nack(requeue: false)
    }

    /// Publishes the terminal reply to the caller's reply queue (if it asked for one) and waits
    /// for the broker's confirm.
    func publishReply(to delivery: Delivery, record: RunRecord, fromStore: Bool) async throws {
        guard let replyTo = delivery.properties.replyTo, !replyTo.isEmpty else { return }
        let reply = Self.reply(for: record, service: definition.name, fromStore: fromStore)
        let props = MessageProperties(correlationID: delivery.properties.correlationID, type: "latentmesh.v1.Reply",
                                      timestampMs: Int64(Date().timeIntervalSince1970 * 1000), persistent: false)
        try await transport.publish(exchange: "", routingKey: replyTo, body: try reply.serializedData(), properties: props)
    }

    /// The protobuf reply for a stored run.
    public static func reply(for record: RunRecord, service: String, fromStore: Bool) -> Latentmesh_V1_Reply {
        var r = Latentmesh_V1_Reply()
        r.requestID = record.requestID
        r.runID = record.runID
        r.service = service
        r.kind = record.kind
        r.fromStore = fromStore
        r.worker = record.worker
        r.startedUnixMs = Int64((record.startedAt ?? record.createdAt).timeIntervalSince1970 * 1000)
        r.finishedUnixMs = Int64((record.finishedAt ?? Date()).timeIntervalSince1970 * 1000)
        if record.status == .succeeded {
            r.result = record.result ?? Data()
        } else {
            let e = record.error ?? RunError(code: "INTERNAL", message: "run ended \(record.status.rawValue)")
            r.error = ServiceError(e).proto
        }
        return r
    }

    func publishStatus(_ record: RunRecord, status: RunStatus) async {
        var s = Latentmesh_V1_RunStatus()
        s.runID = record.runID; s.requestID = record.requestID; s.service = definition.name; s.kind = record.kind
        s.status = status.rawValue; s.sequence = record.sequence; s.worker = config.worker
        s.unixMs = Int64(Date().timeIntervalSince1970 * 1000)
        if let e = record.error, status.isTerminal {
            s.error = ServiceError(e).proto
        }
        try? await events.publish(status: s)
    }
}

extension ServiceError {
    /// The typed error of a recorded run (unknown codes read as INTERNAL).
    init(_ e: RunError) {
        self.init(Code(rawValue: e.code) ?? .internalError, field: e.field, e.message)
    }
}

extension Logger {
    func with(runID: String) -> Logger {
        var l = self
        l[metadataKey: "run"] = .string(runID)
        return l
    }
}
