import ComputeCore
import Foundation
import MeshProto
import XCTest
@testable import MeshKit

/// The ServiceModule shape: definition carries describe metadata and methods; `prepare`
/// applies `--blas-threads` to the compute core and `--compute-slots` to the gate.
final class ServiceModuleTests: XCTestCase {
    struct Toy: ServiceModule {
        var name: String { "toy" }
        var method: String { "ToyMethod" }
        var summary: String { "a toy service" }
        var presets: [String] { ["a", "b"] }
        var settings: [String: String] { ["max_batch": "4"] }
        func methods(config: ServiceConfig) -> [ServiceMethod] {
            [.typed("toy.echo", summary: "echo") { (r: Latentmesh_V1_PingRequest, _: RunContext) async throws -> Latentmesh_V1_PingResponse in
                var out = Latentmesh_V1_PingResponse(); out.payload = r.payload; return out
            }]
        }
    }

    override func tearDown() {
        Threads.configure(2)                 // the core's default
        ComputeGate.shared.setSlots(1)
    }

    func testDefinitionCarriesDescribeMetadataAndMethods() throws {
        let def = try Toy().definition(config: ServiceConfig(service: "toy"))
        XCTAssertEqual(def.name, "toy")
        XCTAssertEqual(def.routingKeys, ["toy.echo"])
        XCTAssertEqual(def.config["method"], "ToyMethod")
        XCTAssertEqual(def.config["summary"], "a toy service")
        XCTAssertEqual(def.config["presets"], "a,b")
        XCTAssertEqual(def.config["max_batch"], "4")
    }

    func testPrepareAppliesBlasThreadsAndComputeSlots() throws {
        let flags = try ServiceConfig.resolve(service: "toy", arguments: ["--blas-threads", "3", "--compute-slots", "2"],
                                              environment: [:])
        _ = try Toy().definition(config: flags)
        XCTAssertEqual(Threads.gemmWorkers, 3, "--blas-threads sets the GEMM split workers")
        XCTAssertEqual(Threads.elementwise, 3, "--blas-threads sets the elementwise workers")
        XCTAssertEqual(Threads.blas, 1, "OpenBLAS itself stays single-threaded under the split")
        XCTAssertEqual(ComputeGate.shared.capacity, 2)

        let env = try ServiceConfig.resolve(service: "toy", arguments: [], environment: ["MESH_BLAS_THREADS": "1"])
        try Toy().prepare(config: env)
        XCTAssertEqual(Threads.gemmWorkers, 1)
        XCTAssertEqual(Threads.elementwise, 1)
        // 0 (the default) leaves the core as it is.
        try Toy().prepare(config: ServiceConfig(service: "toy"))
        XCTAssertEqual(Threads.gemmWorkers, 1)
        XCTAssertEqual(ServiceConfig(service: "toy").redacted["blas_threads"], "default")
    }
}
