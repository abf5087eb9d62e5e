import Foundation
import MeshProto
import XCTest
@testable import MeshKit

/// Behaviour every `MeshTransport` must show; run against both transports by their test classes.
/// Each scenario uses fresh queue names and routing keys and deletes what it created.
struct TransportScenarios {
    let transport: any ScenarioTransport

    private func workQueue(_ label: String) async throws -> (queue: String, key: String) {
        let q = uniqueName(label)
        try await transport.declareWorkQueue(q, routingKeys: [q])
        return (q, q)
    }

    private func cleanup(_ queues: String...) async {
        for q in queues { try? await transport.deleteQueue(q) }
    }

    func publishConsumeAckRoundTrip() async throws {
        let (q, key) = try await workQueue("roundtrip")
        for i in 0..<3 {
            let props = MessageProperties(correlationID: "c\(i)", replyTo: "reply.q", messageID: "m\(i)", type: key,
                                          timestampMs: 1_700_000_000_123 + Int64(i), headers: ["h": "v\(i)"])
            try await transport.publish(exchange: MeshTopology.workExchange, routingKey: key,
                                        body: Data("body\(i)".utf8), properties: props)
        }
        let got = Recorder<Delivery>()
        let handle = try await transport.consume(queue: q, prefetch: 10) { d in
            got.append(d)
            try? await d.ack()
        }
        let all3 = await eventually { got.count == 3 }
        XCTAssertTrue(all3, "received \(got.count) of 3")
        let byBody = Dictionary(uniqueKeysWithValues: got.all.map { (String(decoding: $0.body, as: UTF8.self), $0) })
        for i in 0..<3 {
            guard let d = byBody["body\(i)"] else { XCTFail("missing body\(i)"); continue }
            XCTAssertEqual(d.properties.correlationID, "c\(i)")
            XCTAssertEqual(d.properties.replyTo, "reply.q")
            XCTAssertEqual(d.properties.messageID, "m\(i)")
            XCTAssertEqual(d.properties.type, key)
            XCTAssertEqual(d.properties.timestampMs, 1_700_000_000_123 + Int64(i))
            XCTAssertEqual(d.properties.headers, ["h": "v\(i)"])
            XCTAssertTrue(d.properties.persistent)
            XCTAssertEqual(d.exchange, MeshTopology.workExchange)
            XCTAssertEqual(d.routingKey, key)
            XCTAssertFalse(d.redelivered)
            XCTAssertEqual(d.deliveryCount, 0)
        }
        await handle.cancel()
        let count = try await transport.messageCount(queue: q)
        XCTAssertEqual(count, 0, "acked messages must be gone")
        await cleanup(q)
    }

    func unroutableWorkPublishThrows() async throws {
        do {
            try await transport.publish(exchange: MeshTopology.workExchange, routingKey: uniqueName("nobody"),
                                        body: Data("x".utf8), properties: MessageProperties())
            XCTFail("publish to an unbound work key must throw")
        } catch TransportError.publishRejected(let why) {
            XCTAssertTrue(why.contains("unroutable"), why)
        }
    }

    func publishToMissingExchangeThrows() async throws {
        do {
            try await transport.publish(exchange: uniqueName("noexchange"), routingKey: "k",
                                        body: Data("x".utf8), properties: MessageProperties())
            XCTFail("publish to a missing exchange must throw")
        } catch TransportError.publishRejected(let why) {
            XCTAssertTrue(why.contains("no exchange"), why)
        }
        // The transport still works afterwards.
        let (q, key) = try await workQueue("afterbadpublish")
        try await transport.publish(exchange: MeshTopology.workExchange, routingKey: key, body: Data("ok".utf8),
                                    properties: MessageProperties())
        let n = try await eventually { try await transport.messageCount(queue: q) == 1 }
        XCTAssertTrue(n)
        await cleanup(q)
    }

    func prefetchBoundsUnackedDeliveries() async throws {
        let (q, key) = try await workQueue("prefetch")
        for i in 0..<12 {
            try await transport.publish(exchange: MeshTopology.workExchange, routingKey: key,
                                        body: Data("\(i)".utf8), properties: MessageProperties())
        }
        let done = Recorder<Int>()
        let handle = try await transport.consume(queue: q, prefetch: 3) { d in
            done.enter()
            try? await Task.sleep(nanoseconds: 60_000_000)
            done.leave()
            done.append(Int(String(decoding: d.body, as: UTF8.self)) ?? -1)
            try? await d.ack()
        }
        let finished = await eventually(timeout: 20) { done.count == 12 }
        XCTAssertTrue(finished, "handled \(done.count) of 12")
        XCTAssertEqual(done.maxConcurrent, 3, "handlers run concurrently up to, and never beyond, the prefetch")
        XCTAssertEqual(Set(done.all), Set(0..<12))
        await handle.cancel()
        await cleanup(q)
    }

    /// A tap on the dead-letter exchange sees every dead letter (latentmesh.dead is shared).
    private func deadLetterTap() async throws -> String {
        let tap = uniqueName("deadtap")
        try await transport.declareTapQueue(tap, exchange: MeshTopology.deadLetterExchange, bindingKey: "")
        return tap
    }

    private func waitForDeadLetter(tap: String, messageID: String, timeout: Double = 15) async throws -> Delivery? {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            for d in try await transport.drain(queue: tap, limit: 100) where d.properties.messageID == messageID {
                return d
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return nil
    }

    func nackWithoutRequeueDeadLetters() async throws {
        let (q, key) = try await workQueue("nack")
        let tap = try await deadLetterTap()
        let id = UUID().uuidString
        try await transport.publish(exchange: MeshTopology.workExchange, routingKey: key, body: Data("poison".utf8),
                                    properties: MessageProperties(messageID: id))
        let handle = try await transport.consume(queue: q, prefetch: 1) { d in try? await d.nack(requeue: false) }
        let dead = try await waitForDeadLetter(tap: tap, messageID: id)
        XCTAssertEqual(dead.map { String(decoding: $0.body, as: UTF8.self) }, "poison")
        _ = try await transport.messageCount(queue: MeshTopology.deadLetterQueue) // the dead queue exists
        await handle.cancel()
        let left = try await transport.messageCount(queue: q)
        XCTAssertEqual(left, 0)
        await cleanup(q, tap)
    }

    func stopDeliveriesLetsInFlightFinish() async throws {
        let (q, key) = try await workQueue("graceful")
        for i in 0..<5 {
            try await transport.publish(exchange: MeshTopology.workExchange, routingKey: key, body: Data("\(i)".utf8),
                                        properties: MessageProperties())
        }
        let held = Recorder<Delivery>()
        let handle = try await transport.consume(queue: q, prefetch: 2) { d in held.append(d) }
        let two = await eventually { held.count == 2 }
        XCTAssertTrue(two)
        await handle.stopDeliveries()
        for d in held.all { try await d.ack() } // in-flight work still completes after the stop
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertEqual(held.count, 2, "no delivery may arrive after stopDeliveries")
        let acked = try await eventually { try await transport.messageCount(queue: q) == 3 }
        await handle.cancel()
        let left = try await transport.messageCount(queue: q)
        XCTAssertTrue(acked)
        XCTAssertEqual(left, 3, "the two acked messages are gone, three remain")
        await cleanup(q)
    }

    func cancelWithoutAckRedelivers() async throws {
        let (q, key) = try await workQueue("redeliver")
        try await transport.publish(exchange: MeshTopology.workExchange, routingKey: key, body: Data("once".utf8),
                                    properties: MessageProperties())
        let first = Recorder<Delivery>()
        let h1 = try await transport.consume(queue: q, prefetch: 1) { d in first.append(d) } // never settles
        let got1 = await eventually { first.count == 1 }
        XCTAssertTrue(got1)
        await h1.cancel()
        try? await first.all.first?.ack() // stale: the delivery went back to the queue; must be a no-op
        let second = Recorder<Delivery>()
        let h2 = try await transport.consume(queue: q, prefetch: 1) { d in
            second.append(d)
            try? await d.ack()
        }
        let got2 = await eventually { second.count == 1 }
        XCTAssertTrue(got2, "the unacked message must be redelivered")
        XCTAssertEqual(first.all.first?.redelivered, false)
        XCTAssertEqual(first.all.first?.deliveryCount, 0)
        XCTAssertEqual(second.all.first?.redelivered, true)
        XCTAssertEqual(second.all.first?.deliveryCount, 1)
        XCTAssertEqual(second.all.first.map { String(decoding: $0.body, as: UTF8.self) }, "once")
        await h2.cancel()
        await cleanup(q)
    }

    func deliveryLimitDeadLettersPoison() async throws {
        let (q, key) = try await workQueue("limit")
        let tap = try await deadLetterTap()
        let id = UUID().uuidString
        try await transport.publish(exchange: MeshTopology.workExchange, routingKey: key, body: Data("loop".utf8),
                                    properties: MessageProperties(messageID: id))
        let counts = Recorder<Int>()
        let handle = try await transport.consume(queue: q, prefetch: 1) { d in
            counts.append(d.deliveryCount)
            try? await d.nack(requeue: true)
        }
        let dead = try await waitForDeadLetter(tap: tap, messageID: id)
        XCTAssertNotNil(dead, "a message requeued past the delivery limit must be dead-lettered")
        XCTAssertEqual(counts.all, Array(0...MeshTopology.deliveryLimit))
        await handle.cancel()
        let left = try await transport.messageCount(queue: q)
        XCTAssertEqual(left, 0)
        await cleanup(q, tap)
    }

    func eventsReachSubscribers() async throws {
        let bus = EventBus(transport: transport)
        let run = "run" + UUID().uuidString.prefix(8).lowercased()
        let got = Recorder<(String, Latentmesh_V1_Event)>()
        let sub = try await bus.subscribe(runID: run) { key, e in got.append((key, e)) }
        let cancels = Recorder<Latentmesh_V1_CancelRun>()
        let csub = try await bus.subscribeCancellations(runID: run) { c in cancels.append(c) }
        for step in 1...3 {
            var p = Latentmesh_V1_Progress()
            p.runID = run
            p.step = Int64(step)
            p.total = 3
            p.metrics = ["loss": 1.0 / Double(step)]
            try await bus.publish(progress: p)
        }
        var other = Latentmesh_V1_Progress()
        other.runID = run + "x"
        try await bus.publish(progress: other)
        var status = Latentmesh_V1_RunStatus()
        status.runID = run
        status.status = "succeeded"
        try await bus.publish(status: status)
        try await bus.publishCancel(runID: run, reason: "user")
        let all = await eventually { got.count >= 4 && cancels.count >= 1 }
        XCTAssertTrue(all, "events \(got.count), cancels \(cancels.count)")
        try await Task.sleep(nanoseconds: 100_000_000)
        let events = got.all
        XCTAssertEqual(events.count, 4, "the other run's event and the cancel must not match run.<id>.*")
        XCTAssertEqual(events.map(\.0), ["run.\(run).progress", "run.\(run).progress", "run.\(run).progress", "run.\(run).status"])
        XCTAssertEqual(events.prefix(3).map { $0.1.progress.step }, [1, 2, 3])
        XCTAssertEqual(events.first?.1.progress.metrics["loss"], 1.0)
        XCTAssertEqual(events.last?.1.status.status, "succeeded")
        XCTAssertEqual(cancels.all.map(\.runID), [run])
        XCTAssertEqual(cancels.all.first?.reason, "user")
        await sub.cancel()
        await csub.cancel()
        XCTAssertThrowsError(try EventBus.routingKey(for: Latentmesh_V1_Event()))
        var bad = Latentmesh_V1_Event()
        bad.progress.runID = "a.b"
        XCTAssertThrowsError(try EventBus.routingKey(for: bad))
    }

    func rpcCallAndDeadline() async throws {
        let (q, key) = try await workQueue("rpc")
        let transport = self.transport
        let server = try await transport.consume(queue: q, prefetch: 4) { d in
            guard let replyTo = d.properties.replyTo else { try? await d.nack(requeue: false); return }
            let reply = MessageProperties(correlationID: d.properties.correlationID,
                                          headers: ["echo-header": d.properties.headers["x"] ?? ""])
            try? await transport.publish(exchange: "", routingKey: replyTo,
                                         body: Data(d.body.reversed()), properties: reply)
            try? await d.ack()
        }
        let client = try await RPCClient(transport: transport)
        let answer = try await client.call(routingKey: key, body: Data("abc".utf8), timeout: .seconds(10), headers: ["x": "1"])
        XCTAssertEqual(String(decoding: answer, as: UTF8.self), "cba")
        async let a = client.call(routingKey: key, body: Data("12".utf8), timeout: .seconds(10))
        async let b = client.call(routingKey: key, body: Data("34".utf8), timeout: .seconds(10))
        let (ra, rb) = try await (a, b)
        XCTAssertEqual(String(decoding: ra, as: UTF8.self), "21", "replies are matched by correlation id")
        XCTAssertEqual(String(decoding: rb, as: UTF8.self), "43")

        let (silent, silentKey) = try await workQueue("rpcsilent") // declared, nobody consumes
        let start = Date()
        do {
            _ = try await client.call(routingKey: silentKey, body: Data(), timeout: .milliseconds(300))
            XCTFail("a call nobody answers must exceed its deadline")
        } catch let e as RPCError {
            XCTAssertEqual(e, .deadlineExceeded(routingKey: silentKey, timeoutMs: 300))
        }
        let waited = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(waited, 0.29)
        XCTAssertLessThan(waited, 5)
        await client.close()
        await server.cancel()
        await cleanup(q, silent)
    }
}
