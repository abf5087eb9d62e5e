import Foundation
import Logging
import MeshKit
import MeshProto
import RunStore
import MeshTesting
import XCTest

/// The broker restarts under a steady stream of requests: services reconnect, and every
/// request whose publish the client saw confirmed is run and recorded.
final class BrokerRestartTests: XCTestCase {
    func testServicesReconnectAndNoConfirmedRequestIsLost() async throws {
        let store = try RunStores.open(url: try TestEnvironment.databaseURL())
        try store.migrate()
        let svc = try ServiceProcess("tokenizer", worker: "restart-\(getpid())", prefetch: 8)
        try svc.start()
        defer { svc.stop(); store.close() }
        let transport = try AMQPTransport(url: try TestEnvironment.amqpURL(), name: "restart-test", logger: Logger(label: "test"))

        let confirmed = Confirmed()
        let stream = Task {
            for i in 0..<80 {
                var r = Latentmesh_V1_PingRequest()
                r.meta.requestID = "restart-\(getpid())-\(i)-\(UUID().uuidString.prefix(6))"
                r.workMs = 10
                do {
                    try await transport.publish(exchange: MeshTopology.workExchange, routingKey: "tokenizer.ping",
                                                body: try r.serializedData(),
                                                properties: MessageProperties(messageID: r.meta.requestID, type: "tokenizer.ping",
                                                                              timestampMs: Int64(Date().timeIntervalSince1970 * 1000)))
                    confirmed.add(r.meta.requestID)
                } catch {
                    // Not confirmed: the client knows it may be lost and would retry.
                }
                try? await Task.sleep(nanoseconds: 100_000_000)
            }
        }
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let restart = Process()
        restart.executableURL = TestEnvironment.repoRoot.appendingPathComponent("scripts/stack")
        restart.arguments = ["restart-rabbit"]
        try restart.run()
        restart.waitUntilExit()
        XCTAssertEqual(restart.terminationStatus, 0, "scripts/stack restart-rabbit")
        await stream.value
        let ids = confirmed.all
        XCTAssertGreaterThan(ids.count, 20, "most publishes are confirmed")
        let done = try TestEnvironment.waitUntil(90, "all confirmed requests to be recorded as succeeded") {
            try ids.allSatisfy { try store.run(requestID: $0)?.status == .succeeded }
        }
        if !done {
            let missing = try ids.filter { try store.run(requestID: $0)?.status != .succeeded }
            XCTFail("\(missing.count) of \(ids.count) confirmed requests not completed, e.g. \(missing.prefix(3)); service log:\n\(svc.log.suffix(3000))")
        }
        // And the service still answers RPCs after the restart.
        let client = try await MeshClient(transport: transport, clientName: "tests")
        let h = try await client.call("tokenizer.health", Latentmesh_V1_HealthRequest(), as: Latentmesh_V1_HealthStatus.self,
                                      timeout: .seconds(30))
        XCTAssertTrue(h.response.serving)
        await client.close()
        await transport.close()
    }
}

final class Confirmed: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [String] = []
    func add(_ id: String) { lock.lock(); ids.append(id); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return ids }
}

/// Long jobs outlive RabbitMQ's default 30-minute consumer timeout because the broker we ship
/// raises it to 24 h (scripts/stack, scripts/compose/rabbitmq.conf): check the running broker.
final class BrokerConfigTests: XCTestCase {
    func testRunningBrokerAllowsDayLongUnackedJobs() throws {
        _ = try TestEnvironment.amqpURL()
        let (status, text) = try TestEnvironment.brokerSetting("consumer_timeout")
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.contains("86400000"), "consumer_timeout should be 24 h, broker says: \(text)")
        let compose = try String(contentsOf: TestEnvironment.repoRoot.appendingPathComponent("scripts/compose/rabbitmq.conf"), encoding: .utf8)
        XCTAssertTrue(compose.contains("consumer_timeout = 86400000"))
    }
}
