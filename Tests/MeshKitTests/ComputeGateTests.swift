import Foundation
import XCTest
@testable import MeshKit

/// The compute gate admits at most `slots` sections at once, whatever the number of
/// concurrent requests, and resizes at run time.
final class ComputeGateTests: XCTestCase {
    /// Runs `tasks` sections of ~`ms` milliseconds concurrently; returns the most seen at once.
    func maxConcurrent(_ gate: ComputeGate, tasks: Int, ms: UInt32 = 20) async -> Int {
        let lock = NSLock()
        var running = 0, most = 0
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    await gate.run {
                        lock.withLock { running += 1; most = max(most, running) }
                        usleep(ms * 1000)
                        lock.withLock { running -= 1 }
                    }
                }
            }
        }
        return most
    }

    func testSlotsBoundConcurrency() async {
        let one = ComputeGate(slots: 1)
        let seenOne = await maxConcurrent(one, tasks: 6)
        XCTAssertEqual(seenOne, 1)
        XCTAssertEqual(one.peakConcurrency, 1)
        let three = ComputeGate(slots: 3)
        let seenThree = await maxConcurrent(three, tasks: 9, ms: 50)
        XCTAssertLessThanOrEqual(seenThree, 3)
        XCTAssertGreaterThanOrEqual(seenThree, 2, "a 3-slot gate runs sections side by side")
        one.setSlots(2)
        XCTAssertEqual(one.capacity, 2)
        let seenResized = await maxConcurrent(one, tasks: 6, ms: 50)
        XCTAssertLessThanOrEqual(seenResized, 2)
    }

    func testErrorsReleaseTheSlot() async {
        struct Boom: Error {}
        let gate = ComputeGate(slots: 1)
        for _ in 0..<3 {
            do { try await gate.run { throw Boom() } ; XCTFail("must throw") } catch {}
        }
        let v = await gate.run { 42 }
        XCTAssertEqual(v, 42, "a throwing section gives its slot back")
    }

    func testServiceConfigParsesComputeSlots() throws {
        XCTAssertEqual(try ServiceConfig.resolve(service: "x", arguments: ["--compute-slots", "3"], environment: [:]).computeSlots, 3)
        XCTAssertEqual(try ServiceConfig.resolve(service: "x", arguments: [], environment: ["MESH_COMPUTE_SLOTS": "2"]).computeSlots, 2)
        XCTAssertEqual(try ServiceConfig.resolve(service: "x", arguments: [], environment: [:]).computeSlots, 1)
        XCTAssertThrowsError(try ServiceConfig.resolve(service: "x", arguments: ["--compute-slots", "0"], environment: [:])) {
            XCTAssertEqual(($0 as? ServiceConfig.ConfigError)?.field, "--compute-slots")
        }
    }
}
