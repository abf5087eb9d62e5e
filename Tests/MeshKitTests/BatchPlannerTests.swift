import MeshKit
import XCTest

/// The batching plan as a pure value type: no clock, no I/O.
final class BatchPlannerTests: XCTestCase {
    typealias Planner = BatchPlanner<String, Int>

    func testALoneRequestWaitsAtMostMaxWait() {
        var p = Planner(maxItems: 8, maxWait: 0.01)
        XCTAssertEqual(p.arrive(1, key: "m", items: 2, now: 0), [])
        XCTAssertEqual(p.wakeAt, 0.01)
        XCTAssertEqual(p.tick(now: 0.005), [])
        XCTAssertEqual(p.arrive(2, key: "m", items: 1, now: 0.006), [])
        XCTAssertEqual(p.tick(now: 0.01), [.init(key: "m", ids: [1, 2], items: 3)])
        XCTAssertTrue(p.isRunning("m"))
        XCTAssertNil(p.wakeAt)
    }

    func testAFullBatchStartsAtOnceAndLaterArrivalsWaitForTheNext() {
        var p = Planner(maxItems: 4, maxWait: 10)
        XCTAssertEqual(p.arrive(1, key: "m", items: 1, now: 0), [])
        XCTAssertEqual(p.arrive(2, key: "m", items: 2, now: 0), [])
        XCTAssertEqual(p.arrive(3, key: "m", items: 2, now: 0), [.init(key: "m", ids: [1, 2], items: 3)],
                       "a request that does not fit stays for the next batch")
        XCTAssertEqual(p.arrive(4, key: "m", items: 2, now: 1), [], "a batch of m runs")
        XCTAssertEqual(p.tick(now: 100), [], "never two batches of one key at once")
        XCTAssertEqual(p.finish("m", now: 100), [.init(key: "m", ids: [3, 4], items: 4)])
        XCTAssertEqual(p.finish("m", now: 101), [])
    }

    func testKeysAreIndependentAndUrgentGoesFirst() {
        var p = Planner(maxItems: 2, maxWait: 1)
        XCTAssertEqual(p.arrive(1, key: "a", items: 1, now: 0), [])
        XCTAssertEqual(p.arrive(2, key: "b", items: 1, now: 0.1), [])
        XCTAssertEqual(p.arrive(3, key: "a", items: 1, urgent: true, now: 0.2), [.init(key: "a", ids: [3, 1], items: 2)])
        XCTAssertEqual(p.tick(now: 1.1), [.init(key: "b", ids: [2], items: 1)])
        XCTAssertEqual(p.arrive(4, key: "a", items: 1, now: 2), [])
        XCTAssertEqual(p.arrive(5, key: "a", items: 1, urgent: true, now: 2.5), [])
        XCTAssertEqual(p.finish("a", now: 3), [.init(key: "a", ids: [5, 4], items: 2)])
    }

    func testAnOversizeRequestIsABatchOfItsOwnAndWithdrawRemoves() {
        var p = Planner(maxItems: 4, maxWait: 1)
        XCTAssertEqual(p.arrive(1, key: "m", items: 9, now: 0), [.init(key: "m", ids: [1], items: 9)])
        XCTAssertEqual(p.arrive(2, key: "m", items: 1, now: 0), [])
        XCTAssertEqual(p.arrive(3, key: "m", items: 1, now: 0), [])
        XCTAssertTrue(p.withdraw(2))
        XCTAssertFalse(p.withdraw(2))
        XCTAssertEqual(p.waitingCount("m"), 1)
        XCTAssertEqual(p.finish("m", now: 2), [.init(key: "m", ids: [3], items: 1)])
    }

    func testMaxItemsOneMeansNoBatching() {
        var p = Planner(maxItems: 1, maxWait: 0)
        XCTAssertEqual(p.arrive(1, key: "m", items: 1, now: 0), [.init(key: "m", ids: [1], items: 1)])
        XCTAssertEqual(p.arrive(2, key: "m", items: 1, now: 0), [])
        XCTAssertEqual(p.finish("m", now: 0), [.init(key: "m", ids: [2], items: 1)])
    }

    func testWaitingRequestsJoinARunningBatchWhenThereIsRoom() {
        var p = Planner(maxItems: 4, maxWait: 10)
        XCTAssertEqual(p.arrive(1, key: "m", items: 4, now: 0), [.init(key: "m", ids: [1], items: 4)])
        XCTAssertEqual(p.join("m", room: 2), [], "nothing waits")
        XCTAssertEqual(p.arrive(2, key: "m", items: 1, now: 1), [])
        XCTAssertEqual(p.arrive(3, key: "m", items: 2, now: 2), [])
        XCTAssertEqual(p.arrive(4, key: "m", items: 1, urgent: true, now: 3), [])
        XCTAssertEqual(p.arrive(5, key: "x", items: 1, now: 3), [], "another key is not joined")
        XCTAssertEqual(p.join("m", room: 0), [], "a full batch takes nobody")
        XCTAssertEqual(p.join("m", room: 2), [4, 2], "urgent first, then arrival order, up to the room")
        XCTAssertEqual(p.waitingCount("m"), 1)
        XCTAssertEqual(p.join("m", room: 1), [], "the first in line does not fit, so nobody overtakes it")
        XCTAssertEqual(p.join("m", room: 3), [3])
        XCTAssertEqual(p.waitingCount("m"), 0)
        XCTAssertEqual(p.waitingCount("x"), 1)
        XCTAssertTrue(p.isRunning("m"), "joining does not end the batch")
    }
}
