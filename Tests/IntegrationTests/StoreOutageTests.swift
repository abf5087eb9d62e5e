import Foundation
import MeshTesting
import MeshKit
import MeshProto
import RunStore
import XCTest

/// A handler that loses the store mid-run (the database restarting under it, as in
/// `scripts/chaos`) does not fail the request: the work is given back and runs again.
final class StoreOutageTests: XCTestCase {
    func testAHandlerThatLosesTheStoreIsRunAgainNotFailed() async throws {
        let dir = TestEnvironment.tempDir("store-outage")
        let store = try TestEnvironment.sqliteStore(in: dir)
        defer { store.close() }
        let calls = AttemptCounter()
        var definition = ServiceDefinition(name: "outageprobe")
        definition.add(.typed("outageprobe.work", summary: "loses the store on its first attempt") { (req: Latentmesh_V1_PingRequest, ctx) in
            if calls.next() == 1 {
                throw RunStoreError.connection("connection to server at \"127.0.0.1\", port 55432 failed: FATAL:  the database system is shutting down")
            }
            var r = Latentmesh_V1_PingResponse()
            r.payload = req.payload
            r.worker = ctx.worker
            return r
        })
        let transport = InProcessTransport()
        let runtime = ServiceRuntime(definition: definition, config: ServiceConfig(service: "outageprobe", worker: "w"),
                                     transport: transport, store: store)
        try await runtime.start()
        let client = try await MeshClient(transport: transport, clientName: "tests")
        var req = Latentmesh_V1_PingRequest()
        req.payload = Data("hello".utf8)
        req.meta.requestID = "outage-\(UUID().uuidString)"
        let answer = try await client.call("outageprobe.work", req, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(30))
        XCTAssertEqual(answer.response.payload, req.payload)
        XCTAssertEqual(calls.count, 2, "run once more after the outage")
        let run = try XCTUnwrap(try store.run(requestID: req.meta.requestID))
        XCTAssertEqual(run.status, .succeeded)
        XCTAssertEqual(run.attempts, 2)
        XCTAssertNil(run.error)
        XCTAssertTrue(ServiceRuntime.isStoreOutage(RunStoreError.closed))
        XCTAssertFalse(ServiceRuntime.isStoreOutage(RunStoreError.invalidArgument(field: "x", message: "y")), "a bad request is its own failure")
        XCTAssertFalse(ServiceRuntime.isStoreOutage(ServiceError(.internalError, "boom")))
        await client.close()
        await runtime.shutdown(grace: 0)
    }
}

private final class AttemptCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var count: Int { lock.withLock { n } }
    func next() -> Int { lock.withLock { n += 1; return n } }
}
