import XCTest
@testable import RunStore

final class RunLifecycleTests: XCTestCase {
    func testStartedRunIsRunningWithSequenceOneAndOneAttempt() {
        let life = RunLifecycle.started()
        XCTAssertEqual(life.status, .running)
        XCTAssertEqual(life.sequence, 1)
        XCTAssertEqual(life.attempts, 1)
    }

    func testAllowedTransitionsBumpSequenceByOne() throws {
        var life = RunLifecycle.queued()
        try life.transition(to: .running)
        XCTAssertEqual(life.status, .running); XCTAssertEqual(life.sequence, 2); XCTAssertEqual(life.attempts, 1)
        try life.transition(to: .queued)
        XCTAssertEqual(life.status, .queued); XCTAssertEqual(life.sequence, 3); XCTAssertEqual(life.attempts, 1)
        try life.transition(to: .running)
        XCTAssertEqual(life.sequence, 4); XCTAssertEqual(life.attempts, 2)
        try life.restart()
        XCTAssertEqual(life.status, .running); XCTAssertEqual(life.sequence, 5); XCTAssertEqual(life.attempts, 3)
        try life.transition(to: .succeeded)
        XCTAssertEqual(life.status, .succeeded); XCTAssertEqual(life.sequence, 6); XCTAssertEqual(life.attempts, 3)
    }

    func testRunningCanEndInEveryTerminalStatus() throws {
        for terminal in RunStatus.allCases where terminal.isTerminal {
            let life = try RunLifecycle.started().applying(terminal)
            XCTAssertEqual(life.status, terminal)
            XCTAssertEqual(life.sequence, 2)
        }
    }

    func testAnyNonTerminalCanBeDeadLettered() throws {
        XCTAssertEqual(try RunLifecycle.queued().applying(.deadLettered).status, .deadLettered)
        XCTAssertEqual(try RunLifecycle.started().applying(.deadLettered).status, .deadLettered)
    }

    func testTerminalStatusesAreFinal() {
        for terminal in RunStatus.allCases where terminal.isTerminal {
            let life = RunLifecycle(status: terminal, sequence: 7, attempts: 2)
            for next in RunStatus.allCases {
                XCTAssertThrowsError(try life.applying(next)) { error in
                    XCTAssertEqual(error as? RunStoreError, .invalidTransition(from: terminal, to: next))
                }
            }
        }
    }

    func testQueuedCannotFinishWithoutRunning() {
        for next: RunStatus in [.queued, .succeeded, .failed, .cancelled] {
            XCTAssertThrowsError(try RunLifecycle.queued().applying(next), "queued -> \(next)")
        }
    }

    func testRejectedTransitionLeavesStateUnchanged() {
        var life = RunLifecycle(status: .succeeded, sequence: 3, attempts: 1)
        XCTAssertThrowsError(try life.transition(to: .running))
        XCTAssertEqual(life, RunLifecycle(status: .succeeded, sequence: 3, attempts: 1))
    }

    func testAllowsMatchesTheDocumentedTable() {
        let allowed: Set<String> = [
            "queued>running", "queued>dead_lettered", "running>running", "running>queued",
            "running>succeeded", "running>failed", "running>cancelled", "running>dead_lettered",
        ]
        for from in RunStatus.allCases {
            for to in RunStatus.allCases {
                XCTAssertEqual(RunLifecycle.allows(from: from, to: to), allowed.contains("\(from.rawValue)>\(to.rawValue)"),
                               "\(from.rawValue) -> \(to.rawValue)")
            }
        }
    }
}
