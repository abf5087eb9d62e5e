import Foundation
import Logging
@testable import MeshCtlKit
import MeshKit
import MeshProto
import MeshTesting
import RunStore
import XCTest

/// `RequestMeta.priority` over real RabbitMQ + PostgreSQL: an urgent request published behind
/// 20 queued normal ones starts as soon as the running one finishes.
final class PriorityTests: XCTestCase {
    final class StartLog: @unchecked Sendable {
        private let lock = NSLock()
        private var order: [String] = []
        func record(_ s: String) { lock.withLock { order.append(s) } }
        var all: [String] { lock.withLock { order } }
    }

    func testUrgentRequestOvertakesAQueueOfTwenty() async throws {
        let amqp = try TestEnvironment.amqpURL(), db = try TestEnvironment.databaseURL()
        let store = try RunStores.open(url: db)
        try store.migrate()
        defer { store.close() }
        let name = "prio\(getpid())"
        let starts = StartLog()
        var definition = ServiceDefinition(name: name)
        definition.add(.typed("\(name).work", summary: "records its start, then works 150 ms") {
            (req: Latentmesh_V1_PingRequest, ctx) in
            starts.record(String(decoding: req.payload, as: UTF8.self))
            for _ in 0..<15 {
                try ctx.checkCancelled()
                try? await Task.sleep(nanoseconds: 10_000_000)
            }
            var r = Latentmesh_V1_PingResponse()
            r.payload = req.payload
            return r
        })
        let transport = try AMQPTransport(url: amqp, name: "\(name)-worker", logger: Logger(label: "test"))
        let runtime = ServiceRuntime(definition: definition, config: ServiceConfig(service: name, prefetch: 1, worker: "\(name)-w"),
                                     transport: transport, store: store)
        try await runtime.start()
        let clientTransport = try AMQPTransport(url: amqp, name: "\(name)-client", logger: Logger(label: "test"))
        let client = try await MeshClient(transport: clientTransport, clientName: "priority-test")
        func request(_ tag: String, priority: Int32) -> Latentmesh_V1_PingRequest {
            var r = Latentmesh_V1_PingRequest()
            r.payload = Data(tag.utf8)
            r.meta.priority = priority
            return r
        }
        // Two finished runs give the audit a duration for the ETA.
        for i in 0..<2 {
            _ = try await client.call("\(name).work", request("warm\(i)", priority: 0), as: Latentmesh_V1_PingResponse.self)
        }
        let normal = (0..<20).map { i in
            Task { try await client.call("\(name).work", request("n\(i)", priority: 0), as: Latentmesh_V1_PingResponse.self,
                                         timeout: .seconds(120)) }
        }
        let queue = MeshTopology.workQueue(service: name)
        let queuedUp = try await eventually(20) { try await clientTransport.messageCount(queue: queue) >= 18 }
        XCTAssertTrue(queuedUp, "20 normal requests queued behind the running one")

        // meshctl's queue phase: position from the broker depth, ETA from the audit's durations.
        let normalWatch = QueueWatch(transport: clientTransport, store: store, service: name, priority: 0)
        let atStart = try await normalWatch.current()
        XCTAssertGreaterThanOrEqual(atStart.ahead, 18)
        XCTAssertNotNil(atStart.etaSeconds, "recent durations in the audit give an ETA")
        let urgentWatch = QueueWatch(transport: clientTransport, store: store, service: name, priority: 7)
        let urgentAhead = try await urgentWatch.current().ahead
        XCTAssertEqual(urgentAhead, 0, "nothing waits in the urgent lane")
        let urgent = try await client.call("\(name).work", request("urgent", priority: 7), as: Latentmesh_V1_PingResponse.self,
                                           timeout: .seconds(120))
        XCTAssertEqual(String(decoding: urgent.response.payload, as: UTF8.self), "urgent")
        let later = try await normalWatch.current()
        XCTAssertLessThan(later.ahead, atStart.ahead, "runs started since move the request up: \(later)")
        for t in normal { _ = try await t.value }
        let order = starts.all.filter { !$0.hasPrefix("warm") }
        XCTAssertEqual(order.count, 21)
        let position = try XCTUnwrap(order.firstIndex(of: "urgent"))
        XCTAssertLessThanOrEqual(position, 2, "the urgent request starts right after the running one: \(order)")
        let run = try XCTUnwrap(try store.run(id: urgent.reply.runID))
        XCTAssertEqual(run.kind, "\(name).work", "the audit records the method, not the urgent routing key")
        let urgentLeft = try await clientTransport.messageCount(queue: MeshTopology.urgentQueue(service: name))
        XCTAssertEqual(urgentLeft, 0)

        await client.close()
        await runtime.shutdown(grace: 1)
        await transport.close()
        for q in MeshTopology.serviceQueues(service: name, routingKeys: []) { try? await clientTransport.deleteQueue(q.queue) }
        await clientTransport.close()
    }

    private func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until {
            if try await condition() { return true }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return false
    }
}
