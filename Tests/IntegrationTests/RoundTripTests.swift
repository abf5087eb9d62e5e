import Foundation
import Logging
import MeshKit
import MeshProto
import RunStore
import ServiceCatalog
import MeshTesting
import XCTest

/// Describe, health and ping of each of the five services on both transports; every request
/// appears in the audit with its timings.
final class RoundTripTests: XCTestCase {
    func testEachServiceInProcessWithSQLite() async throws {
        let mesh = try await InProcessMesh.start(modules: ServiceCatalog.modules, worker: "inproc-test")
        try await checkAllServices(client: mesh.client, store: mesh.store, transport: "inproc", storeBackend: "sqlite")
        await mesh.stop()
    }

    func testEachServiceOverRabbitMQWithPostgres() async throws {
        let amqp = try TestEnvironment.amqpURL()
        let store = try RunStores.open(url: try TestEnvironment.databaseURL())
        try store.migrate()
        var procs: [ServiceProcess] = []
        for name in ServiceCatalog.names {
            let p = try ServiceProcess(name, worker: "rt-\(name)-\(getpid())")
            try p.start()
            procs.append(p)
        }
        let transport = try AMQPTransport(url: amqp, name: "round-trip-test", logger: Logger(label: "test"))
        let client = try await MeshClient(transport: transport, clientName: "tests")
        try await checkAllServices(client: client, store: store, transport: "amqp", storeBackend: "postgres")
        await client.close()
        await transport.close()
        for p in procs {
            p.stop()
            XCTAssertEqual(p.waitExit(timeout: 20), 0, "\(p.worker) should exit 0 on SIGTERM; log:\n\(p.log)")
        }
        store.close()
    }

    func checkAllServices(client: MeshClient, store: RunStore, transport: String, storeBackend: String) async throws {
        for name in ServiceCatalog.names {
            let d = try await client.call("\(name).describe", Latentmesh_V1_DescribeRequest(),
                                          as: Latentmesh_V1_ServiceDescription.self, timeout: .seconds(20))
            XCTAssertEqual(d.response.service, name)
            XCTAssertEqual(d.response.transport, transport)
            XCTAssertEqual(d.response.store, storeBackend)
            XCTAssertEqual(Set(d.response.methods.map(\.routingKey)).isSuperset(of: ["\(name).describe", "\(name).health", "\(name).ping"]), true)
            XCTAssertNil(d.response.config["amqp_url"].flatMap { $0.contains("guest:guest") ? $0 : nil },
                         "credentials must be redacted")

            let h = try await client.call("\(name).health", Latentmesh_V1_HealthRequest(),
                                          as: Latentmesh_V1_HealthStatus.self, timeout: .seconds(20))
            XCTAssertTrue(h.response.serving)
            XCTAssertEqual(h.response.service, name)

            var ping = Latentmesh_V1_PingRequest()
            ping.payload = Data("hello \(name)".utf8)
            ping.workMs = 20
            ping.meta.requestID = "rt-\(transport)-\(name)-\(UUID().uuidString)"
            let p = try await client.call("\(name).ping", ping, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(20))
            XCTAssertEqual(p.response.payload, ping.payload)
            XCTAssertEqual(p.response.workedMs, 20)
            XCTAssertFalse(p.reply.fromStore)

            // The audit has the run, with timings.
            _ = store.flushQuietly()
            let run = try XCTUnwrap(try store.run(requestID: ping.meta.requestID))
            XCTAssertEqual(run.runID, p.reply.runID)
            XCTAssertEqual(run.service, name)
            XCTAssertEqual(run.kind, "\(name).ping")
            XCTAssertEqual(run.status, .succeeded)
            XCTAssertEqual(run.attempts, 1)
            XCTAssertNotNil(run.startedAt)
            XCTAssertNotNil(run.finishedAt)
            XCTAssertGreaterThanOrEqual(run.durationMs ?? -1, 15, "ping worked 20 ms")
            XCTAssertEqual(run.result, try p.response.serializedData())
            XCTAssertNotNil(try store.run(requestID: d.reply.requestID), "describe is recorded too")
        }
    }
}

extension RunStore {
    func flushQuietly() -> Bool { (try? flush()) != nil }
}
