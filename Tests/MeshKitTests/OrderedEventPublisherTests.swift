import Foundation
import MeshProto
import XCTest
@testable import MeshKit

/// Run events leave in the order they were emitted, and `finish()` publishes every queued one.
final class OrderedEventPublisherTests: XCTestCase {
    func testEventsArriveInOrderAndFinishFlushesTheQueue() async throws {
        let transport = InProcessTransport()
        let bus = EventBus(transport: transport)
        let run = "run" + UUID().uuidString.prefix(8).lowercased()
        let got = Recorder<Int64>()
        let sub = try await bus.subscribe(runID: run) { _, e in
            if case .progress(let p) = e.payload { got.append(p.step) }
        }
        let publisher = OrderedEventPublisher(bus: bus)
        for step in 1...500 {
            var p = Latentmesh_V1_Progress()
            p.runID = run; p.step = Int64(step); p.total = 500
            var e = Latentmesh_V1_Event(); e.progress = p
            publisher.enqueue(e)          // returns at once, whatever the broker does
        }
        await publisher.finish()          // every queued event is published before finish returns
        let until = Date().addingTimeInterval(30)
        while got.count < 500 && Date() < until { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertEqual(got.all, Array(1...500), "all 500 events, in emission order")
        await sub.cancel()
        await transport.close()
    }

    func testWithASmallCapacityTheNewestIsKeptAndOrderHolds() async throws {
        let transport = InProcessTransport()
        let bus = EventBus(transport: transport)
        let run = "run" + UUID().uuidString.prefix(8).lowercased()
        let got = Recorder<Int64>()
        let sub = try await bus.subscribe(runID: run) { _, e in
            if case .progress(let p) = e.payload { got.append(p.step) }
        }
        let publisher = OrderedEventPublisher(bus: bus, capacity: 4)
        for step in 1...200 {
            var p = Latentmesh_V1_Progress()
            p.runID = run; p.step = Int64(step)
            var e = Latentmesh_V1_Event(); e.progress = p
            publisher.enqueue(e)
        }
        await publisher.finish()
        let until = Date().addingTimeInterval(30)
        while got.all.last != 200 && Date() < until { try await Task.sleep(nanoseconds: 10_000_000) }
        let steps = got.all
        XCTAssertEqual(steps.last, 200, "the newest event always goes out")
        XCTAssertEqual(steps, steps.sorted(), "what goes out keeps its order")
        XCTAssertEqual(Set(steps).count, steps.count)
        await sub.cancel()
        await transport.close()
    }
}
