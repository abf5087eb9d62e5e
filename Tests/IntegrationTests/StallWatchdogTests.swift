import Foundation
import MeshTesting
import Logging
import MeshKit
import MeshProto
import RunStore
import XCTest

/// Hung work is detected: a handler that stops making progress (no progress event, no
/// heartbeat) is cancelled after the stall timeout, its message requeued, and the request
/// completes on another worker (real RabbitMQ + PostgreSQL).
final class StallWatchdogTests: XCTestCase {
    func testWedgedHandlerIsRequeuedAndCompletesOnAnotherWorker() async throws {
        let amqp = try TestEnvironment.amqpURL(), db = try TestEnvironment.databaseURL()
        let store = try RunStores.open(url: db)
        try store.migrate()
        defer { store.close() }
        let name = "wedge\(getpid())"
        let wedged = Flag(), release = Flag()
        let definition: ServiceDefinition = {
            var d = ServiceDefinition(name: name)
            d.add(.typed("\(name).work", summary: "wedges forever on worker A (ignores cancellation)") {
                (req: Latentmesh_V1_PingRequest, ctx) in
                if ctx.worker.hasSuffix("-A") {
                    wedged.value = true
                    while !release.value { try? await Task.sleep(nanoseconds: 50_000_000) }
                }
                var r = Latentmesh_V1_PingResponse()
                r.payload = req.payload
                r.worker = ctx.worker
                return r
            })
            return d
        }()
        func runtime(_ worker: String) throws -> ServiceRuntime {
            var config = ServiceConfig(service: name, prefetch: 1, worker: "\(name)-\(worker)")
            config.stallTimeoutSeconds = 1
            let transport = try AMQPTransport(url: amqp, name: "\(name)-\(worker)", logger: Logger(label: "test"))
            return ServiceRuntime(definition: definition, config: config, transport: transport, store: store)
        }
        let a = try runtime("A")
        try await a.start()
        let clientTransport = try AMQPTransport(url: amqp, name: "\(name)-client", logger: Logger(label: "test"))
        let client = try await MeshClient(transport: clientTransport, clientName: "stall-test")
        var req = Latentmesh_V1_PingRequest()
        req.payload = Data("hello".utf8)
        req.meta.requestID = "\(name)-\(UUID().uuidString.prefix(8))"
        let call = Task {
            try await client.call("\(name).work", req, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(60))
        }
        let until = Date().addingTimeInterval(20)
        while !wedged.value && Date() < until { try await Task.sleep(nanoseconds: 20_000_000) }
        XCTAssertTrue(wedged.value, "worker A took the request and wedged")
        let b = try runtime("B")
        try await b.start()

        let answer = try await call.value
        XCTAssertEqual(answer.response.worker, "\(name)-B", "the request completed on worker B")
        let run = try XCTUnwrap(try store.run(requestID: req.meta.requestID))
        XCTAssertEqual(run.status, .succeeded)
        XCTAssertEqual(run.worker, "\(name)-B")
        XCTAssertGreaterThanOrEqual(run.attempts, 2)
        let events = try store.events(runID: run.runID, limit: 100)
        let stalled = events.filter { $0.type == "stalled" }
        XCTAssertEqual(stalled.count, 1, "one stalled event in the audit: \(events.map(\.type))")
        XCTAssertTrue(stalled.first?.payloadJSON.contains("\(name)-A") ?? false, stalled.first?.payloadJSON ?? "")

        // A's handler comes back late: its outcome is discarded, the record stays B's.
        release.value = true
        try await Task.sleep(nanoseconds: 500_000_000)
        let after = try XCTUnwrap(try store.run(requestID: req.meta.requestID))
        XCTAssertEqual(after.worker, "\(name)-B")
        XCTAssertEqual(after.sequence, run.sequence, "nothing recorded after B's outcome")
        XCTAssertEqual(a.handled, 0)

        await client.close()
        await a.shutdown(grace: 1)
        await b.shutdown(grace: 1)
        await a.transport.close()
        await b.transport.close()
        try? await clientTransport.deleteQueue(MeshTopology.workQueue(service: name))
        await clientTransport.close()
    }
}
