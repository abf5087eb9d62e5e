import XCTest
@testable import MeshKit

final class MeshTopologyTests: XCTestCase {
    func testWorkQueueNameFollowsService() {
        XCTAssertEqual(MeshTopology.workQueue(service: "tokenizer"), "latentmesh.tokenizer")
        XCTAssertEqual(MeshTopology.deadLetterQueue, "latentmesh.dead")
        XCTAssertGreaterThan(MeshTopology.deliveryLimit, 0)
    }
}
