import Foundation
import Logging
import MeshKit
import MeshProto
import RunStore
import MeshTesting
import XCTest

/// Nothing is lost and nothing runs twice: killed workers, SIGTERM with work in flight,
/// duplicate request ids, malformed and out-of-range requests. Real RabbitMQ + PostgreSQL.
final class DeliveryGuaranteeTests: XCTestCase {
    var store: RunStore!
    var transport: AMQPTransport!
    var client: MeshClient!
    var processes: [ServiceProcess] = []

    override func setUp() async throws {
        store = try RunStores.open(url: try TestEnvironment.databaseURL())
        try store.migrate()
        transport = try AMQPTransport(url: try TestEnvironment.amqpURL(), name: "guarantee-tests", logger: Logger(label: "test"))
        client = try await MeshClient(transport: transport, clientName: "tests")
    }

    override func tearDown() async throws {
        for p in processes { p.stop() }
        processes.removeAll()
        await client?.close()
        await transport?.close()
        store?.close()
    }

    func startService(_ service: String, _ worker: String, prefetch: Int = 4, grace: Double = 20) throws -> ServiceProcess {
        let p = try ServiceProcess(service, worker: "\(worker)-\(getpid())-\(UUID().uuidString.prefix(4))",
                                   prefetch: prefetch, graceSeconds: grace)
        try p.start()
        processes.append(p)
        return p
    }

    func ping(_ service: String, workMs: Int32, requestID: String = UUID().uuidString) -> Latentmesh_V1_PingRequest {
        var r = Latentmesh_V1_PingRequest()
        r.workMs = workMs
        r.payload = Data(requestID.utf8)
        r.meta.requestID = requestID
        return r
    }

    func testKilledWorkerRedeliversToAnotherInstanceAndCompletesOnce() async throws {
        let a = try startService("decode", "killed", prefetch: 1)
        let req = ping("decode", workMs: 3000, requestID: "kill-\(UUID().uuidString)")
        let call = Task { try await client.call("decode.ping", req, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(90)) }
        XCTAssertTrue(try TestEnvironment.waitUntil(20, "worker A to start the run") {
            try store.run(requestID: req.meta.requestID).map { $0.status == .running && $0.worker == a.worker } ?? false
        })
        a.signal(SIGKILL)
        _ = a.waitExit(timeout: 10)
        let b = try startService("decode", "survivor", prefetch: 1)
        let answer = try await call.value
        XCTAssertEqual(answer.response.worker, b.worker, "the redelivered request completes on the other instance")
        XCTAssertEqual(answer.response.payload, req.payload)
        let run = try XCTUnwrap(try store.run(requestID: req.meta.requestID))
        XCTAssertEqual(run.status, .succeeded)
        XCTAssertEqual(run.attempts, 2, "started on A, restarted on B")
        XCTAssertEqual(run.worker, b.worker)
        // Exactly once in the audit: one row for the request id, one terminal status.
        let all = try store.listRuns(RunQuery(service: "decode", limit: 10_000)).filter { $0.requestID == req.meta.requestID }
        XCTAssertEqual(all.count, 1)
    }

    func testSIGTERMWithWorkInFlightLosesNothingAndExitsZero() async throws {
        // A holds two long requests; it gets a short grace, so it must requeue them.
        let a = try startService("distill", "terminated", prefetch: 2, grace: 0.5)
        let reqs = (0..<3).map { ping("distill", workMs: 2500, requestID: "term-\($0)-\(UUID().uuidString)") }
        let calls = reqs.map { r in
            Task { try await client.call("distill.ping", r, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(90)) }
        }
        XCTAssertTrue(try TestEnvironment.waitUntil(20, "A to hold two runs") {
            try reqs.filter { try store.run(requestID: $0.meta.requestID)?.status == .running }.count == 2
        })
        a.signal(SIGTERM)
        XCTAssertEqual(a.waitExit(timeout: 30), 0, "graceful stop exits 0; log:\n\(a.log)")
        _ = try startService("distill", "successor", prefetch: 4)
        for (i, call) in calls.enumerated() {
            let answer = try await call.value
            XCTAssertEqual(answer.response.payload, reqs[i].payload)
        }
        for r in reqs {
            let run = try XCTUnwrap(try store.run(requestID: r.meta.requestID))
            XCTAssertEqual(run.status, .succeeded, "\(r.meta.requestID)")
        }
    }

    func testGracefulStopFinishesShortWork() async throws {
        let a = try startService("generator", "draining", prefetch: 2, grace: 20)
        let r = ping("generator", workMs: 800, requestID: "drain-\(UUID().uuidString)")
        let call = Task { try await client.call("generator.ping", r, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(60)) }
        XCTAssertTrue(try TestEnvironment.waitUntil(20, "the run to start") {
            try store.run(requestID: r.meta.requestID)?.status == .running
        })
        a.signal(SIGTERM)
        let answer = try await call.value
        XCTAssertEqual(answer.response.worker, a.worker, "in-flight work finishes on the stopping worker")
        XCTAssertEqual(a.waitExit(timeout: 30), 0)
        XCTAssertEqual(try store.run(requestID: r.meta.requestID)?.attempts, 1)
    }

    func testDuplicateRequestIDReturnsStoredResultWithoutSecondRun() async throws {
        _ = try startService("tokenizer", "dup")
        let r = ping("tokenizer", workMs: 200, requestID: "dup-\(UUID().uuidString)")
        let first = try await client.call("tokenizer.ping", r, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(30))
        let t0 = Date()
        let second = try await client.call("tokenizer.ping", r, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(30))
        XCTAssertFalse(first.reply.fromStore)
        XCTAssertTrue(second.reply.fromStore)
        XCTAssertEqual(second.reply.runID, first.reply.runID)
        XCTAssertEqual(second.response, first.response)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 10)
        let run = try XCTUnwrap(try store.run(requestID: r.meta.requestID))
        XCTAssertEqual(run.attempts, 1, "no second run")
        XCTAssertEqual(run.status, .succeeded)
    }

    /// A second publish of a request still running (a client retrying after a dropped connection)
    /// is answered with that run's result when it ends, on whichever worker it lands: never a second run.
    func testSecondPublishWhileRunningWaitsForTheRunInsteadOfRestartingIt() async throws {
        _ = try startService("tokenizer", "attach-a", prefetch: 1)
        _ = try startService("tokenizer", "attach-b", prefetch: 1)
        let r = ping("tokenizer", workMs: 1500, requestID: "attach-\(UUID().uuidString)")
        let client = self.client!
        let first = Task { try await client.call("tokenizer.ping", r, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(30)) }
        XCTAssertTrue(try TestEnvironment.waitUntil(20, "the first publish to run") {
            try store.run(requestID: r.meta.requestID)?.status == .running
        })
        let second = try await client.call("tokenizer.ping", r, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(30))
        let original = try await first.value
        XCTAssertTrue(second.reply.fromStore, "answered from the finished run")
        XCTAssertEqual(second.reply.runID, original.reply.runID)
        XCTAssertEqual(second.response, original.response)
        let run = try XCTUnwrap(try store.run(requestID: r.meta.requestID))
        XCTAssertEqual(run.attempts, 1, "the second publish did not restart the run")
        XCTAssertEqual(run.status, .succeeded)
    }

    func testMalformedBodyIsDeadLetteredAndOutOfRangeFieldIsNamed() async throws {
        _ = try startService("personalize", "strict")
        // 1. A body that is not a protobuf request.
        let messageID = "garbage-\(UUID().uuidString)"
        try await transport.publish(exchange: MeshTopology.workExchange, routingKey: "personalize.ping",
                                    body: Data([0xff, 0xff, 0xff, 0x07, 0x00]),
                                    properties: MessageProperties(messageID: messageID, type: "personalize.ping"))
        XCTAssertTrue(try TestEnvironment.waitUntil(20, "the dead letter to be recorded") {
            try store.run(requestID: messageID)?.status == .deadLettered
        })
        let dead = try XCTUnwrap(try store.run(requestID: messageID))
        XCTAssertEqual(dead.error?.code, "INVALID_ARGUMENT")
        var found = false
        let until = Date().addingTimeInterval(20)
        while !found && Date() < until {
            let drained = try await transport.drain(queue: MeshTopology.deadLetterQueue, limit: 1000)
            found = drained.contains { $0.properties.messageID == messageID }
            if !found { try await Task.sleep(nanoseconds: 200_000_000) }
        }
        XCTAssertTrue(found, "the malformed message reached \(MeshTopology.deadLetterQueue)")

        // 2. An out-of-range field: INVALID_ARGUMENT naming the field and its limit.
        let bad = ping("personalize", workMs: 99_999)
        do {
            _ = try await client.call("personalize.ping", bad, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(20))
            XCTFail("work_ms 99999 must be refused")
        } catch let e as ServiceError {
            XCTAssertEqual(e.code, .invalidArgument)
            XCTAssertEqual(e.field, "work_ms")
            XCTAssertTrue(e.message.contains("30000"), e.message)
        }
        XCTAssertEqual(try store.run(requestID: bad.meta.requestID)?.status, .failed)

        // 3. The service keeps serving.
        let ok = try await client.call("personalize.ping", ping("personalize", workMs: 0), as: Latentmesh_V1_PingResponse.self,
                                       timeout: .seconds(20))
        XCTAssertFalse(ok.response.worker.isEmpty)
    }
}
