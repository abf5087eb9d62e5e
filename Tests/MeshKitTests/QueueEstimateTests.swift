import MeshKit
import XCTest

/// Queue position and ETA, without I/O (the Python client's twin is tested in clients/python/tests).
final class QueueEstimateTests: XCTestCase {
    func testPositionFallsWithStartsAndEtaFollowsThroughput() {
        var q = QueueEstimate(aheadAtStart: 20, workers: 2, secondsPerRequest: 4)
        XCTAssertEqual(q.ahead, 20)
        XCTAssertEqual(q.throughput, 0.5)
        XCTAssertEqual(q.etaSeconds, 42)
        q.startsSince = 5
        XCTAssertEqual(q.ahead, 15)
        XCTAssertEqual(q.etaSeconds, 32)
        q.startsSince = 30
        XCTAssertEqual(q.ahead, 0, "never negative")
        XCTAssertEqual(q.etaSeconds, 2, "next in line: one request time / workers")
        XCTAssertEqual(q.line, "queued: 0 ahead, starts in ~2s")
    }

    func testUnknownDurationAndClamping() {
        let q = QueueEstimate(aheadAtStart: -3, workers: 0, secondsPerRequest: nil)
        XCTAssertEqual(q.ahead, 0)
        XCTAssertEqual(q.workers, 1)
        XCTAssertNil(q.etaSeconds)
        XCTAssertTrue(q.line.contains("eta unknown"))
        XCTAssertNil(QueueEstimate(aheadAtStart: 1, secondsPerRequest: 0).etaSeconds)
    }

    func testMedian() {
        XCTAssertNil(QueueEstimate.median([]))
        XCTAssertEqual(QueueEstimate.median([3, 1, 2]), 2)
        XCTAssertEqual(QueueEstimate.median([4, 1, 3, 2]), 2.5)
        XCTAssertEqual(QueueEstimate.median([.nan, 5]), 5)
    }
}
