import MeshKit
import XCTest

/// The queue-selection logic of priority serving, without I/O.
final class PriorityLanesTests: XCTestCase {
    typealias Lanes = PriorityLanes<String>

    func testUrgentArrivalOvertakesEveryWaitingNormalOne() {
        var lanes = Lanes(capacity: 1)
        XCTAssertEqual(lanes.arrive("n0", lane: .normal), ["n0"], "a free slot starts at once")
        for i in 1...20 { XCTAssertEqual(lanes.arrive("n\(i)", lane: .normal), []) }
        XCTAssertEqual(lanes.arrive("u0", lane: .urgent), [], "the slot is busy")
        XCTAssertEqual(lanes.waitingCount(.normal), 20)
        XCTAssertEqual(lanes.waitingCount(.urgent), 1)
        XCTAssertEqual(lanes.finish(), ["u0"], "the urgent one runs next, ahead of 20 normal ones")
        var order: [String] = []
        for _ in 0..<20 { order += lanes.finish() }
        XCTAssertEqual(order, (1...20).map { "n\($0)" }, "normal ones keep their arrival order")
        XCTAssertEqual(lanes.finish(), [])
        XCTAssertEqual(lanes.running, 0)
    }

    func testCapacityBoundsRunningAndLanesStayFIFO() {
        var lanes = Lanes(capacity: 2)
        XCTAssertEqual(lanes.arrive("a", lane: .normal), ["a"])
        XCTAssertEqual(lanes.arrive("b", lane: .normal), ["b"])
        XCTAssertEqual(lanes.arrive("c", lane: .normal), [])
        XCTAssertEqual(lanes.arrive("u1", lane: .urgent), [])
        XCTAssertEqual(lanes.arrive("u2", lane: .urgent), [])
        XCTAssertEqual(lanes.running, 2)
        XCTAssertEqual(lanes.finish(), ["u1"])
        XCTAssertEqual(lanes.finish(), ["u2"])
        XCTAssertEqual(lanes.finish(), ["c"])
        XCTAssertEqual(lanes.running, 2)
        XCTAssertEqual(lanes.takeWaiting(), [])
        XCTAssertEqual(lanes.arrive("d", lane: .normal), [])
        XCTAssertEqual(lanes.arrive("u3", lane: .urgent), [])
        XCTAssertEqual(lanes.takeWaiting(), ["u3", "d"], "shutdown hands back the waiting ones, urgent first")
        XCTAssertEqual(lanes.finish(), [])
        XCTAssertEqual(lanes.running, 1)
    }

    func testLaneOfPriorityAndRoutingKey() {
        XCTAssertEqual(Lanes.Lane(priority: 0), .normal)
        XCTAssertEqual(Lanes.Lane(priority: 1), .urgent)
        XCTAssertEqual(Lanes.Lane(priority: 9), .urgent)
        XCTAssertEqual(Lanes.Lane(routingKey: "generator.generate"), .normal)
        XCTAssertEqual(Lanes.Lane(routingKey: "generator.generate.urgent"), .urgent)
    }

    func testTopologyNamesOfTheUrgentLane() {
        XCTAssertEqual(MeshTopology.routingKey(method: "generator.generate", priority: 0), "generator.generate")
        XCTAssertEqual(MeshTopology.routingKey(method: "generator.generate", priority: 3), "generator.generate.urgent")
        XCTAssertEqual(MeshTopology.method(ofRoutingKey: "generator.generate.urgent"), "generator.generate")
        XCTAssertEqual(MeshTopology.method(ofRoutingKey: "generator.generate"), "generator.generate")
        let queues = MeshTopology.serviceQueues(service: "generator", routingKeys: ["generator.generate", "generator.ping"])
        XCTAssertEqual(queues.map(\.queue), ["latentmesh.generator.urgent", "latentmesh.generator"])
        XCTAssertEqual(queues[0].keys, ["generator.generate.urgent", "generator.ping.urgent"])
        XCTAssertEqual(queues[1].keys, ["generator.generate", "generator.ping"])
    }
}
