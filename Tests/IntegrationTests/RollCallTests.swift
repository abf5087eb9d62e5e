import Foundation
import Logging
import MeshKit
import MeshProto
import MeshTesting
import RunStore
import XCTest

/// A roll call reaches every replica (not only the one a work queue picks): three workers of one
/// service and one of another, in process and over real RabbitMQ; a stopped worker drops out.
final class RollCallTests: XCTestCase {
    func rollCall(_ make: (String) throws -> MeshTransport, store: RunStore) async throws {
        let name = "roll\(getpid())\(UUID().uuidString.prefix(4).lowercased())", other = name + "x"
        var runtimes: [ServiceRuntime] = []
        for (service, worker) in [(name, "w1"), (name, "w2"), (name, "w3"), (other, "o1")] {
            let rt = ServiceRuntime(definition: ServiceDefinition(name: service), config: ServiceConfig(service: service, worker: worker),
                                    transport: try make(worker), store: store)
            try await rt.start()
            runtimes.append(rt)
        }
        let client = try await MeshClient(transport: try make("client"), clientName: "rollcall-test")
        let all = try await client.rollCall(service: name)
        XCTAssertEqual(all.map(\.worker), ["w1", "w2", "w3"])
        XCTAssertEqual(Set(all.map(\.service)), [name])
        let everyone = try await client.rollCall()
        XCTAssertTrue(Set(["w1", "w2", "w3", "o1"]).isSubset(of: Set(everyone.map(\.worker))), "\(everyone.map(\.worker))")
        await runtimes[1].shutdown(grace: 1)
        let after = try await client.rollCall(service: name)
        XCTAssertEqual(after.map(\.worker), ["w1", "w3"], "a stopped worker drops out")
        await client.close()
        for rt in runtimes { await rt.shutdown(grace: 1) }
    }

    func testInProcess() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rollcall-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try TestEnvironment.sqliteStore(in: dir, file: "runs.sqlite")
        defer { store.close() }
        let transport = InProcessTransport()
        try await rollCall({ _ in transport }, store: store)
    }

    func testOverRabbitMQ() async throws {
        let amqp = try TestEnvironment.amqpURL(), db = try TestEnvironment.databaseURL()
        let store = try RunStores.open(url: db)
        try store.migrate()
        defer { store.close() }
        var transports: [AMQPTransport] = []
        try await rollCall({ worker in
            let t = try AMQPTransport(url: amqp, name: "rollcall-\(worker)", logger: Logger(label: "test"))
            transports.append(t)
            return t
        }, store: store)
        for t in transports { await t.close() }
    }
}
