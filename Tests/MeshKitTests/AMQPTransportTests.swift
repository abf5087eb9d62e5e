import Foundation
import XCTest
@testable import MeshKit

/// Runs the transport scenarios against RabbitMQ (MESH_AMQP_URL).
final class AMQPTransportTests: XCTestCase {
    private func makeTransport(publishTimeout: TimeInterval = 30) async throws -> AMQPTransport {
        let t = try AMQPTransport(url: try TestServers.amqpURL(), name: "test-\(name.split(separator: " ").last ?? "")",
                                  publishTimeout: publishTimeout)
        addTeardownBlock { await t.close() }
        return t
    }

    private func scenarios() async throws -> TransportScenarios {
        TransportScenarios(transport: try await makeTransport())
    }

    func testPublishConsumeAckRoundTrip() async throws { try await scenarios().publishConsumeAckRoundTrip() }
    func testUnroutableWorkPublishThrows() async throws { try await scenarios().unroutableWorkPublishThrows() }
    func testPublishToMissingExchangeThrows() async throws { try await scenarios().publishToMissingExchangeThrows() }
    func testPrefetchBoundsUnackedDeliveries() async throws { try await scenarios().prefetchBoundsUnackedDeliveries() }
    func testNackWithoutRequeueDeadLetters() async throws { try await scenarios().nackWithoutRequeueDeadLetters() }
    func testStopDeliveriesLetsInFlightFinish() async throws { try await scenarios().stopDeliveriesLetsInFlightFinish() }
    func testCancelWithoutAckRedelivers() async throws { try await scenarios().cancelWithoutAckRedelivers() }
    func testDeliveryLimitDeadLettersPoison() async throws { try await scenarios().deliveryLimitDeadLettersPoison() }
    func testEventsReachSubscribers() async throws { try await scenarios().eventsReachSubscribers() }
    func testRPCCallAndDeadline() async throws { try await scenarios().rpcCallAndDeadline() }

    /// After a consumer's connection dies, acking a delivery from the dead channel is a logged no-op (its
    /// tag would name another message on the new channel); the broker redelivers that message.
    func testAckOfDeliveryFromDeadConnectionIsIgnored() async throws {
        let t = try await makeTransport()
        let q = uniqueName("stale")
        try await t.declareWorkQueue(q, routingKeys: [q])
        addTeardownBlock { try? await t.deleteQueue(q) }
        for body in ["a", "b"] {
            try await t.publish(exchange: MeshTopology.workExchange, routingKey: q, body: Data(body.utf8),
                                properties: MessageProperties())
        }
        let got = Recorder<Delivery>()
        let handle = try await t.consume(queue: q, prefetch: 1) { d in got.append(d) } // acks later, by hand
        let first = await eventually { got.count == 1 }
        XCTAssertTrue(first)
        let link = try XCTUnwrap(handle as? AMQPConsumerLink)
        link.dropConnectionForTesting()
        let reconnected = await eventually { link.connectionGeneration == 2 && got.count == 2 }
        XCTAssertTrue(reconnected, "consumer must reconnect and receive again")
        let stale = got.all[0], fresh = got.all[1]
        try await stale.ack() // stale tag 1 on the old channel; on the new channel tag 1 is `fresh`
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertEqual(String(decoding: fresh.body, as: UTF8.self), String(decoding: stale.body, as: UTF8.self),
                       "the unacked message is redelivered first")
        XCTAssertTrue(fresh.redelivered)
        XCTAssertEqual(fresh.deliveryCount, 1)
        XCTAssertEqual(got.count, 2, "the stale ack must not have acked the fresh delivery (prefetch 1)")
        try await fresh.ack()
        let third = await eventually { got.count == 3 }
        XCTAssertTrue(third)
        try await got.all[2].ack()
        let empty = try await eventually { try await t.messageCount(queue: q) == 0 }
        XCTAssertTrue(empty)
        await handle.cancel()
        let left = try await t.messageCount(queue: q)
        XCTAssertEqual(left, 0, "both messages acked exactly once")
    }

    func testMissingQueueIsReportedAndChannelRecovers() async throws {
        let t = try await makeTransport()
        do {
            _ = try await t.messageCount(queue: uniqueName("missing"))
            XCTFail("passive declare of a missing queue must throw")
        } catch TransportError.queueNotFound {}
        do {
            _ = try await t.consume(queue: uniqueName("missing"), prefetch: 1) { _ in }
            XCTFail("consuming a missing queue must throw")
        } catch TransportError.queueNotFound {}
        // The management channel was closed by the broker and must have been reopened.
        let q = uniqueName("after404")
        try await t.declareWorkQueue(q, routingKeys: [q])
        let n = try await t.messageCount(queue: q)
        XCTAssertEqual(n, 0)
        try await t.deleteQueue(q)
    }

    func testDeclareServiceCreatesQuorumWorkQueue() async throws {
        let t = try await makeTransport()
        let service = uniqueName("svc")
        try await t.declareService(service, routingKeys: ["\(service).ping"])
        try await t.publish(exchange: MeshTopology.workExchange, routingKey: "\(service).ping", body: Data("p".utf8),
                            properties: MessageProperties())
        let n = try await eventually { try await t.messageCount(queue: MeshTopology.workQueue(service: service)) == 1 }
        XCTAssertTrue(n)
        // Re-declaring with classic arguments must clash with the quorum queue (proves its arguments).
        let other = try await makeTransport()
        do {
            try await other.declareTapQueue(MeshTopology.workQueue(service: service), exchange: MeshTopology.workExchange,
                                            bindingKey: "x")
            XCTFail("a classic declare of the quorum work queue must be refused")
        } catch TransportError.broker(let why) {
            XCTAssertTrue(why.contains("406"), why)
        }
        try await t.deleteQueue(MeshTopology.workQueue(service: service))
    }

    /// Restarts the shared broker while publishing: every publish that returned must be consumed.
    /// Opt-in (MESH_TEST_BROKER_RESTART=1) because it disturbs everyone using the broker.
    func testReconnectAfterBrokerRestartLosesNoConfirmedPublish() async throws {
        let env = ProcessInfo.processInfo.environment
        guard env["MESH_TEST_BROKER_RESTART"] == "1" else {
            throw XCTSkip("set MESH_TEST_BROKER_RESTART=1 to restart the shared broker in this test")
        }
        let script = env["MESH_STACK_SCRIPT"] ?? URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/stack").path
        let t = try await makeTransport(publishTimeout: 90)
        let q = uniqueName("reconnect")
        try await t.declareWorkQueue(q, routingKeys: [q])
        addTeardownBlock { try? await t.deleteQueue(q) } // also when an assertion below fails
        let consumed = Recorder<String>()
        let handle = try await t.consume(queue: q, prefetch: 20) { d in
            consumed.append(String(decoding: d.body, as: UTF8.self))
            try? await d.ack()
        }
        let confirmed = Recorder<String>()
        let failed = Recorder<String>()
        let stop = Recorder<Bool>()
        let publisher = Task {
            var i = 0
            while stop.count == 0 {
                let body = "m\(i)"
                do {
                    try await t.publish(exchange: MeshTopology.workExchange, routingKey: q, body: Data(body.utf8),
                                        properties: MessageProperties())
                    confirmed.append(body)
                } catch {
                    failed.append("\(body): \(error)")
                }
                i += 1
                try? await Task.sleep(nanoseconds: 5_000_000)
            }
        }
        try await Task.sleep(nanoseconds: 500_000_000)
        let before = confirmed.count
        let status = await runShell("bash '\(script)' restart-rabbit")
        XCTAssertEqual(status, 0, "\(script) restart-rabbit failed")
        let after = confirmed.count
        // Keep publishing until the transport is back and has confirmed more.
        let resumed = await eventually(timeout: 60) { confirmed.count > after + 20 }
        stop.append(true)
        _ = await publisher.value
        XCTAssertTrue(resumed, "publishing did not resume after the restart")
        XCTAssertGreaterThan(before, 0)
        XCTAssertGreaterThanOrEqual(t.connectCount, 2, "the control connection must have reconnected")
        let all = await eventually(timeout: 60) { Set(consumed.all).isSuperset(of: confirmed.all) }
        let missing = Set(confirmed.all).subtracting(consumed.all)
        XCTAssertTrue(all, "\(missing.count) confirmed publishes never consumed, e.g. \(missing.sorted().prefix(5))")
        XCTAssertTrue(failed.all.isEmpty, "publishes failed: \(failed.all.prefix(3))")
        await handle.cancel()
        try await t.deleteQueue(q)
    }

    /// Runs a shell command on a plain thread and returns its exit status. (Foundation's
    /// `Process.waitUntilExit` never returns here: the restarted broker inherits its pipe.)
    private func runShell(_ command: String) async -> Int32 {
        await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
            Thread.detachNewThread {
                let raw = system(command)
                c.resume(returning: raw == -1 ? -1 : (raw >> 8) & 0xff)
            }
        }
    }
}
