import XCTest
@testable import MeshKit

final class InProcessTransportTests: XCTestCase {
    private func scenarios() -> (TransportScenarios, InProcessTransport) {
        let t = InProcessTransport()
        return (TransportScenarios(transport: t), t)
    }

    func testPublishConsumeAckRoundTrip() async throws { try await scenarios().0.publishConsumeAckRoundTrip() }
    func testUnroutableWorkPublishThrows() async throws { try await scenarios().0.unroutableWorkPublishThrows() }
    func testPublishToMissingExchangeThrows() async throws { try await scenarios().0.publishToMissingExchangeThrows() }
    func testPrefetchBoundsUnackedDeliveries() async throws { try await scenarios().0.prefetchBoundsUnackedDeliveries() }
    func testNackWithoutRequeueDeadLetters() async throws { try await scenarios().0.nackWithoutRequeueDeadLetters() }
    func testStopDeliveriesLetsInFlightFinish() async throws { try await scenarios().0.stopDeliveriesLetsInFlightFinish() }
    func testCancelWithoutAckRedelivers() async throws { try await scenarios().0.cancelWithoutAckRedelivers() }
    func testDeliveryLimitDeadLettersPoison() async throws { try await scenarios().0.deliveryLimitDeadLettersPoison() }
    func testEventsReachSubscribers() async throws { try await scenarios().0.eventsReachSubscribers() }
    func testRPCCallAndDeadline() async throws { try await scenarios().0.rpcCallAndDeadline() }

    func testDeadLetterQueueCollectsNackedMessages() async throws {
        let t = InProcessTransport()
        try await t.declareService("svc", routingKeys: ["svc.run"])
        try await t.publish(exchange: MeshTopology.workExchange, routingKey: "svc.run", body: Data("p".utf8),
                            properties: MessageProperties(messageID: "poison"))
        let h = try await t.consume(queue: MeshTopology.workQueue(service: "svc"), prefetch: 1) { d in
            try? await d.nack(requeue: false)
        }
        let arrived = try await eventually { try await t.messageCount(queue: MeshTopology.deadLetterQueue) == 1 }
        XCTAssertTrue(arrived)
        let dead = try await t.drain(queue: MeshTopology.deadLetterQueue, limit: 10)
        XCTAssertEqual(dead.map(\.properties.messageID), ["poison"])
        await h.cancel()
    }

    func testTopicMatching() {
        XCTAssertTrue(InProcessBroker.topicMatches(pattern: "run.*.*", key: "run.r1.progress"))
        XCTAssertTrue(InProcessBroker.topicMatches(pattern: "cancel.#", key: "cancel.r1"))
        XCTAssertTrue(InProcessBroker.topicMatches(pattern: "#", key: "a.b.c"))
        XCTAssertTrue(InProcessBroker.topicMatches(pattern: "a.#.c", key: "a.c"))
        XCTAssertFalse(InProcessBroker.topicMatches(pattern: "run.*", key: "run.r1.progress"))
        XCTAssertFalse(InProcessBroker.topicMatches(pattern: "run.r1.*", key: "run.r2.progress"))
    }

    func testMissingQueueAndBadArguments() async throws {
        let t = InProcessTransport()
        do { _ = try await t.messageCount(queue: "nope"); XCTFail() } catch TransportError.queueNotFound {}
        do { _ = try await t.consume(queue: "nope", prefetch: 1) { _ in }; XCTFail() } catch TransportError.queueNotFound {}
        do { _ = try await t.consume(queue: "x", prefetch: 0) { _ in }; XCTFail() }
        catch TransportError.invalidArgument(let field, _) { XCTAssertEqual(field, "prefetch") }
        await t.close()
        do { try await t.publish(exchange: "", routingKey: "q", body: Data(), properties: .init()); XCTFail() }
        catch TransportError.closed {}
    }
}
