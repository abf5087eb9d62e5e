import Foundation
import MeshTesting
import MeshCtlKit
import XCTest

/// The short form of `scripts/chaos` (real RabbitMQ + PostgreSQL, service processes): two
/// replicas per service under a mixed stream while workers are SIGKILLed and the broker and
/// the database restart once each; every confirmed request completes exactly once.
final class ChaosTests: XCTestCase {
    func testChaosLosesAndDuplicatesNothing() async throws {
        _ = try TestEnvironment.amqpURL()
        _ = try TestEnvironment.databaseURL()
        guard ProcessInfo.processInfo.environment["MESH_TEST_BROKER_RESTART"] == "1" else {
            throw XCTSkip("set MESH_TEST_BROKER_RESTART=1 (scripts/test does) to restart the shared servers in this test")
        }
        let work = TestEnvironment.tempDir("chaos")
        let chaos = try ChaosRun(plan: .short, binDir: TestEnvironment.binDir, repoRoot: TestEnvironment.repoRoot, workDir: work)
        let say: @Sendable (String) -> Void = { FileHandle.standardError.write(Data("[chaos] \($0)\n".utf8)) }
        let result = try await chaos.run(say: say)
        say(result.summary)
        XCTAssertGreaterThan(result.confirmed, 20, "enough load went through")
        XCTAssertGreaterThanOrEqual(result.kills, 4)
        XCTAssertEqual(result.brokerRestarts, 1)
        XCTAssertEqual(result.databaseRestarts, 1)
        XCTAssertEqual(result.lost, 0, "lost: \(result.examples["lost"] ?? [])")
        XCTAssertEqual(result.failed, 0, "failed: \(result.examples["failed"] ?? [])")
        XCTAssertEqual(result.duplicated, 0, "duplicated: \(result.examples["duplicated"] ?? [])")
        XCTAssertEqual(result.nonTerminal, 0, "non-terminal: \(result.examples["non_terminal"] ?? [])")
        XCTAssertEqual(result.stuckRunning, 0)
        XCTAssertEqual(Set(result.perKind.keys).count, 5, "every kind of the mix was sent: \(result.perKind)")
        if !result.passed { say(chaos.logTails) }
    }
}
