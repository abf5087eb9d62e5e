import ComputeCore
import Foundation
import MeshKit
import MeshProto
import RunStore
import XCTest

/// A method library's `MethodError` reaches the caller as INVALID_ARGUMENT naming the field,
/// without the handler translating it; checkpoint errors stay INTERNAL.
final class MethodErrorMappingTests: XCTestCase {
    func testMappingOfEachCase() {
        let bad = ServiceError.from(MethodError.invalidConfig(field: "train.steps", message: "must be >= 1, got 0"))
        XCTAssertEqual(bad.code, .invalidArgument)
        XCTAssertEqual(bad.field, "train.steps")
        XCTAssertTrue(bad.message.contains("must be >= 1"), bad.message)
        let preset = ServiceError.from(MethodError.unknownPreset("huge", known: ["s", "m"]))
        XCTAssertEqual(preset.code, .invalidArgument)
        XCTAssertEqual(preset.field, "preset")
        XCTAssertTrue(preset.message.contains("use one of s, m"), preset.message)
        XCTAssertEqual(ServiceError.from(MethodError.invalidInput(field: "images", message: "empty")).field, "images")
        XCTAssertEqual(ServiceError.from(MethodError.checkpoint("truncated")).code, .internalError)
        let passthrough = ServiceError(.notFound, field: "model_name", "no such model")
        XCTAssertEqual(ServiceError.from(passthrough), passthrough)
        XCTAssertThrowsError(try MethodError.check(false, "width", "must be even")) {
            XCTAssertEqual($0 as? MethodError, .invalidConfig(field: "width", message: "must be even"))
        }
        XCTAssertNoThrow(try MethodError.check(true, "width", "must be even"))
    }

    func testHandlerThrowingMethodErrorRepliesInvalidArgument() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("method-error-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try RunStores.open(url: "sqlite:" + dir.appendingPathComponent("runs.sqlite").path)
        try store.migrate()
        defer { store.close() }
        let transport = InProcessTransport()
        let service = "errmap"
        var def = ServiceDefinition(name: service)
        def.add(.typed("\(service).check", summary: "throws a library error") {
            (_: Latentmesh_V1_PingRequest, _) -> Latentmesh_V1_PingResponse in
            throw MethodError.invalidConfig(field: "model.depth", message: "must be in 1...48, got 0")
        })
        let host = MeshHost(transport: transport, store: store, artifacts: nil)
        try await host.start([def]) { _ in ServiceConfig(service: service, worker: "errmap-test") }
        let client = try await MeshClient(transport: transport, clientName: "errmap-test")
        do {
            _ = try await client.call("\(service).check", Latentmesh_V1_PingRequest(), as: Latentmesh_V1_PingResponse.self,
                                      timeout: .seconds(30))
            XCTFail("expected INVALID_ARGUMENT")
        } catch let e as ServiceError {
            XCTAssertEqual(e.code, .invalidArgument, "\(e)")
            XCTAssertEqual(e.field, "model.depth")
            XCTAssertTrue(e.message.contains("1...48"), e.message)
        }
        await client.close()
        await host.shutdown(grace: 1)
        await transport.close()
    }
}
