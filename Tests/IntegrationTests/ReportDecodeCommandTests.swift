import ArgumentParser
import XCTest
@testable import MeshCtlKit

/// `meshctl report decode --train-seeds/--train-kinds/--measure-seeds/--threads`: seeds of the plan only, known kinds, threads in range, clear errors.
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
        let split = try parse(["--plan", "long", "--train-seeds", "2", "--train-kinds", "ar, mdm"])
        XCTAssertEqual(try split.kinds(), ["ar", "mdm"])
        XCTAssertNil(try c.kinds(), "without the option: every kind")
        let m = try parse(["--plan", "long", "--measure-seeds", "1,3"])
        XCTAssertEqual(try m.seeds(m.measureSeeds, option: "--measure-seeds"), [1, 3])
        XCTAssertNil(try m.seeds(), "measuring trains nothing of its own")
        for (args, message) in [(["--plan", "long", "--train-seeds", "4"], "--train-seeds '4'"),
                                (["--plan", "quick", "--train-seeds", "3"], "plan 'quick' (1, 2)"),
                                (["--plan", "long", "--train-seeds", "two"], "--train-seeds 'two'"),
                                (["--plan", "long", "--threads", "0"], "--threads 0: expected 1...64"),
                                (["--plan", "long", "--train-seeds", "2", "--train-kinds", "refusion,gpt"],
                                 "--train-kinds 'refusion,gpt': expected comma-separated model kinds (ar, mdm, refusion)"),
                                (["--plan", "long", "--train-kinds", "mdm"], "--train-kinds: only with --train-seeds"),
                                (["--plan", "long", "--measure-seeds", "1,5"], "--measure-seeds '1,5'"),
                                (["--plan", "long", "--train-seeds", "2", "--measure-seeds", "1"],
                                 "--train-seeds and --measure-seeds: give one of them")] {
            XCTAssertThrowsError(try parse(args), "\(args)") { error in
                let text = ReportDecodeCommand.message(for: error)
                XCTAssertTrue(text.contains(message), "\(args): \(text)")
            }
        }
    }
}
