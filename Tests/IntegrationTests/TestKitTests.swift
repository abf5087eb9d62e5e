import Foundation
import MeshTesting
import TestKit
import XCTest

/// The test kit turns missing pieces into failures: a service that crashes at start is a
/// `StartFailure` with its log (not a skip).
final class TestKitTests: XCTestCase {
    func testCrashingServiceAtStartIsAFailureNotASkip() throws {
        let svc = try ServiceProcess("decode", worker: "crash-\(getpid())", extraEnv: ["MESH_PREFETCH": "not-a-number"])
        XCTAssertThrowsError(try svc.start(timeout: 30)) { error in
            XCTAssertFalse(error is XCTSkip, "a crashing service must fail the test, not skip it")
            let failure = error as? ServiceProcess.StartFailure
            XCTAssertNotNil(failure, "\(error)")
            XCTAssertTrue(failure?.description.contains("exited with status 2") ?? false, "\(error)")
            XCTAssertTrue(failure?.description.contains("MESH_PREFETCH") ?? false, "the log names the bad setting: \(error)")
        }
    }

}
