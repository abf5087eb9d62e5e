import Foundation
import MeshTesting
import Logging
import MeshKit
import MeshProto
import RunStore
import XCTest

/// Message size is bounded at the transport (publish), by the broker, and by the service
/// before it decodes anything; each refusal names the limit.
final class MessageLimitTests: XCTestCase {
    func testTransportsRefuseBodiesAboveTheLimit() async throws {
        let big = Data(count: MeshTopology.maxMessageBytes + 1)
        let inproc = InProcessTransport()
        try await inproc.declareService("sizeprobe", routingKeys: ["sizeprobe.x"])
        do {
            try await inproc.publish(exchange: MeshTopology.workExchange, routingKey: "sizeprobe.x", body: big,
                                     properties: MessageProperties())
            XCTFail("in-process publish of \(big.count) bytes was accepted")
        } catch let TransportError.invalidArgument(field, message) {
            XCTAssertEqual(field, "message.size")
            XCTAssertTrue(message.contains("\(MeshTopology.maxMessageBytes)"), message)
        }
        let amqp = try AMQPTransport(url: try TestEnvironment.amqpURL(), name: "size-test", logger: Logger(label: "test"))
        defer { Task { await amqp.close() } }
        do {
            try await amqp.publish(exchange: MeshTopology.workExchange, routingKey: "tokenizer.ping", body: big,
                                   properties: MessageProperties())
            XCTFail("AMQP publish of \(big.count) bytes was accepted")
        } catch let TransportError.invalidArgument(field, _) {
            XCTAssertEqual(field, "message.size")
        }
    }

    /// A delivery above the service's limit is dead-lettered before decoding, with an error
    /// naming the limit (here a 2 KiB limit against a 4 KB ping).
    func testServiceDeadLettersOversizedDeliveryNamingTheLimit() async throws {
        let dir = TestEnvironment.tempDir("size")
        let store = try TestEnvironment.sqliteStore(in: dir)
        defer { store.close() }
        let transport = InProcessTransport()
        var config = ServiceConfig(service: "sizeprobe", worker: "w")
        config.maxMessageBytes = 2048
        let runtime = ServiceRuntime(definition: ServiceDefinition(name: "sizeprobe"), config: config,
                                     transport: transport, store: store)
        try await runtime.start()
        let client = try await MeshClient(transport: transport, clientName: "tests")
        var ping = Latentmesh_V1_PingRequest()
        ping.payload = Data(count: 4000)
        ping.meta.requestID = "size-\(UUID().uuidString)"
        let reply = try await client.callRaw("sizeprobe.ping", ping, timeout: .seconds(10))
        guard case .error(let e)? = reply.outcome else { return XCTFail("an oversized request succeeded") }
        XCTAssertEqual(e.field, "body")
        XCTAssertTrue(e.message.contains("message.size") && e.message.contains("2048"), e.message)
        // The reply is published before the delivery is rejected: wait (bounded) for the rejection.
        var dead = try await transport.drain(queue: MeshTopology.deadLetterQueue, limit: 10)
        for _ in 0..<100 where dead.isEmpty {
            try await Task.sleep(nanoseconds: 20_000_000)
            dead += try await transport.drain(queue: MeshTopology.deadLetterQueue, limit: 10)
        }
        XCTAssertEqual(dead.count, 1, "the oversized message went to the dead-letter queue")
        var runs = try store.listRuns(RunQuery(service: "sizeprobe"))
        for _ in 0..<100 where runs.map(\.status) != [.deadLettered] {
            try await Task.sleep(nanoseconds: 20_000_000)
            runs = try store.listRuns(RunQuery(service: "sizeprobe"))
        }
        XCTAssertEqual(runs.map(\.status), [.deadLettered])
        await client.close()
        await runtime.shutdown(grace: 0)
    }

    /// The broker we ship refuses messages above 16 MiB (max_message_size), the same limit.
    func testRunningBrokerRefusesMessagesAbove16MiB() throws {
        _ = try TestEnvironment.amqpURL()
        let (status, text) = try TestEnvironment.brokerSetting("max_message_size")
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.contains("\(MeshTopology.maxMessageBytes)"), "broker max_message_size: \(text)")
    }
}
