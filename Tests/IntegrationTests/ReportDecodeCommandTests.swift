import ArgumentParser
import XCTest
@testable import MeshCtlKit

/// `meshctl report decode --train-seeds/--threads`: seeds of the plan only, threads in range, clear errors.
final class ReportDecodeCommandTests: XCTestCase {
    func parse(_ args: [String]) throws -> ReportDecodeCommand {
        let command = try ReportDecodeCommand.parseAsRoot(args)   // validates
        return try XCTUnwrap(command as? ReportDecodeCommand)
    }

    func testTrainSeedsAreThePlansSeedsAndThreadsAreChecked() throws {
        let c = try parse(["--plan", "long", "--threads", "1", "--train-seeds", "2, 3"])
        XCTAssertEqual(try c.seeds(), [2, 3])
        XCTAssertEqual(c.threads, 1)
        XCTAssertNil(try parse(["--plan", "long"]).seeds(), "without the option: the whole report")
        for (args, message) in [(["--plan", "long", "--train-seeds", "4"], "--train-seeds '4'"),
                                (["--plan", "quick", "--train-seeds", "3"], "plan 'quick' (1, 2)"),
                                (["--plan", "long", "--train-seeds", "two"], "--train-seeds 'two'"),
                                (["--plan", "long", "--threads", "0"], "--threads 0: expected 1...64")] {
            XCTAssertThrowsError(try parse(args), "\(args)") { error in
                let text = ReportDecodeCommand.message(for: error)
                XCTAssertTrue(text.contains(message), "\(args): \(text)")
            }
        }
    }
}
