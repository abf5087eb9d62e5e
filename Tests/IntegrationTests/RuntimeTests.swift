import Foundation
import MeshKit
import MeshProto
import RunStore
import MeshTesting
import XCTest

/// Pure runtime logic: configuration resolution and errors (no servers).
final class RuntimeTests: XCTestCase {
    func testConfigFlagsOverrideEnvironmentAndRejectCredentialsAsFlags() throws {
        let env = ["MESH_AMQP_URL": "amqp://u:secret@h:5672/%2f", "MESH_PREFETCH": "3", "MESH_DATABASE_URL": "postgresql://p:pw@h/db"]
        let c = try ServiceConfig.resolve(service: "decode", arguments: ["--prefetch", "7", "--worker", "w1"], environment: env)
        XCTAssertEqual(c.prefetch, 7)
        XCTAssertEqual(c.worker, "w1")
        XCTAssertEqual(c.amqpURL, "amqp://u:secret@h:5672/%2f")
        XCTAssertEqual(c.redacted["amqp_url"], "amqp://u:***@h:5672/%2f")
        XCTAssertEqual(c.redacted["database_url"], "postgresql://p:***@h/db")
        XCTAssertThrowsError(try ServiceConfig.resolve(service: "decode", arguments: ["--amqp", "amqp://x"], environment: [:])) {
            XCTAssertTrue("\($0)".contains("MESH_AMQP_URL"))
        }
        XCTAssertThrowsError(try ServiceConfig.resolve(service: "decode", arguments: ["--prefetch", "0"], environment: [:])) {
            XCTAssertTrue("\($0)".contains("--prefetch"))
            XCTAssertTrue("\($0)".contains("1...1000"))
        }
        XCTAssertThrowsError(try ServiceConfig.resolve(service: "decode", arguments: [], environment: ["MESH_PREFETCH": "x"])) {
            XCTAssertTrue("\($0)".contains("MESH_PREFETCH"))
        }
    }

    func testServiceErrorRoundTripsThroughProto() {
        let e = ServiceError.outOfRange("work_ms", 99_999, 0...30_000)
        XCTAssertEqual(e.code, .invalidArgument)
        XCTAssertEqual(e.field, "work_ms")
        XCTAssertTrue(e.message.contains("0...30000"))
        XCTAssertEqual(ServiceError(proto: e.proto), e)
        for code in ServiceError.Code.allCases {
            XCTAssertEqual(ServiceError.Code(protoCode: code.protoCode), code)
        }
    }

    func testCancellationReachesTheRunningStepLoop() async throws {
        let mesh = try await InProcessMesh.start([ServiceDefinition(name: "tokenizer")], worker: "c")
        let client = mesh.client, store = mesh.store
        var r = Latentmesh_V1_PingRequest()
        r.workMs = 20_000
        r.meta.runID = "cancel-me-\(UUID().uuidString)"
        r.meta.requestID = UUID().uuidString
        let call = Task { try await client.callRaw("tokenizer.ping", r, timeout: .seconds(30)) }
        XCTAssertTrue(try TestEnvironment.waitUntil(10, "run to start") { try store.run(id: r.meta.runID)?.status == .running })
        let t0 = Date()
        try await client.cancel(runID: r.meta.runID, reason: "test")
        let reply = try await call.value
        XCTAssertLessThan(Date().timeIntervalSince(t0), 5, "cancellation is seen between steps")
        XCTAssertEqual(reply.error.code, .cancelled)
        XCTAssertEqual(try store.run(id: r.meta.runID)?.status, .cancelled)
        await mesh.stop()
    }

    func testDeadlineInThePastIsAnsweredDeadlineExceeded() async throws {
        let mesh = try await InProcessMesh.start([ServiceDefinition(name: "decode")], worker: "d")
        let client = mesh.client, store = mesh.store
        var r = Latentmesh_V1_PingRequest()
        r.meta.deadlineUnixMs = Int64(Date().timeIntervalSince1970 * 1000) - 1000
        let reply = try await client.callRaw("decode.ping", r)
        XCTAssertEqual(reply.error.code, .deadlineExceeded)
        XCTAssertEqual(reply.error.field, "meta.deadline_unix_ms")
        await mesh.stop()
    }
}
