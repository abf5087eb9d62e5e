import FlowGen
import XCTest

/// Per-row step bookkeeping of continuous batching, as a pure value type.
final class SamplerRowsTests: XCTestCase {
    func testRowsJoinAtStepZeroAdvanceTogetherAndGroupByStep() {
        var r = SamplerRows(totalSteps: 3, rows: 2)
        XCTAssertEqual(r.groups, [.init(step: 0, positions: [0, 1])])
        r.advance()
        r.append(1)
        XCTAssertEqual(r.steps, [1, 1, 0])
        XCTAssertEqual(r.leastStep, 0)
        XCTAssertEqual(r.groups, [.init(step: 0, positions: [2]), .init(step: 1, positions: [0, 1])], "least advanced first")
        r.advance(); r.advance()
        XCTAssertEqual(r.steps, [3, 3, 2])
        XCTAssertEqual(r.live, [2], "finished rows take no more steps")
        XCTAssertEqual(r.groups, [.init(step: 2, positions: [0])], "positions index into live")
        XCTAssertFalse(r.isFinished)
        r.advance(); r.advance()
        XCTAssertEqual(r.steps, [3, 3, 3])
        XCTAssertTrue(r.isFinished)
        XCTAssertEqual(r.leastStep, 3)
        XCTAssertEqual(r.groups, [])
    }

    func testRetainKeepsTheChosenRowsInOrder() {
        var r = SamplerRows(totalSteps: 4, rows: 1)
        r.advance(); r.append(2); r.advance()
        XCTAssertEqual(r.steps, [2, 1, 1])
        r.retain([2, 0])
        XCTAssertEqual(r.steps, [1, 2])
        XCTAssertEqual(r.count, 2)
        r.retain([])
        XCTAssertTrue(r.isFinished, "no rows: nothing left to do")
        XCTAssertEqual(r.leastStep, 4)
    }
}
