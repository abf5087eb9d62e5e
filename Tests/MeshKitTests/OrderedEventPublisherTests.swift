import Foundation
import MeshProto
import XCTest
@testable import MeshKit

/// Run events leave in the order they were emitted, and `finish()` publishes every queued one.
final class OrderedEventPublisherTests: XCTestCase {
    /// Enqueues progress steps 1...n for one run through a publisher of `capacity`, finishes it,
    /// and returns the steps a subscriber received (waiting until `done` holds).
    func publish(_ n: Int, capacity: Int, until done: @escaping ([Int64]) -> Bool) async throws -> [Int64] {
        let transport = InProcessTransport()
        let bus = EventBus(transport: transport)
        let run = "run" + UUID().uuidString.prefix(8).lowercased()
        let got = Recorder<Int64>()
        let sub = try await bus.subscribe(runID: run) { _, e in
            if case .progress(let p) = e.payload { got.append(p.step) }
        }
        let publisher = OrderedEventPublisher(bus: bus, capacity: capacity)
        for step in 1...n {
            var p = Latentmesh_V1_Progress()
            p.runID = run; p.step = Int64(step); p.total = Int64(n)
            var e = Latentmesh_V1_Event(); e.progress = p
            publisher.enqueue(e)          // returns at once, whatever the broker does
        }
        await publisher.finish()          // every queued event is published before finish returns
        let until = Date().addingTimeInterval(30)
        while !done(got.all) && Date() < until { try await Task.sleep(nanoseconds: 10_000_000) }
        await sub.cancel()
        await transport.close()
        return got.all
    }

    func testEventsArriveInOrderAndFinishFlushesTheQueue() async throws {
        let steps = try await publish(500, capacity: 4096) { $0.count >= 500 }
        XCTAssertEqual(steps, Array(1...500), "all 500 events, in emission order")
    }

    func testWithASmallCapacityTheNewestIsKeptAndOrderHolds() async throws {
        let steps = try await publish(200, capacity: 4) { $0.last == 200 }
        XCTAssertEqual(steps.last, 200, "the newest event always goes out")
        XCTAssertEqual(steps, steps.sorted(), "what goes out keeps its order")
        XCTAssertEqual(Set(steps).count, steps.count)
    }
}
