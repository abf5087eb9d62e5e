import Foundation
import GeneratorSvc
import MeshKit
import MeshProto
import XCTest

/// Batching inside generator-svc: concurrent requests share one batch, each keeps its own run,
/// progress, cancellation and reply, and its images are byte-identical to the request served alone.
extension GeneratorServiceTests {
    /// The largest `batch_images` of a run's progress events, and of its last one.
    func batchSizes(_ mesh: Mesh, runID: String) throws -> (first: Int, last: Int) {
        try mesh.store.flush()
        let sizes = try mesh.store.events(runID: runID, limit: 10_000).filter { $0.type == "progress" }.compactMap { e -> Int? in
            let obj = try? JSONSerialization.jsonObject(with: Data(e.payloadJSON.utf8)) as? [String: Any]
            return ((obj?["metrics"] as? [String: Any])?["batch_images"] as? Double).map { Int($0) }
        }
        return (try XCTUnwrap(sizes.first, "no progress with batch_images"), sizes.last!)
    }

    func testBatchedRequestsMatchAloneAndACancelledOneLeavesTheBatch() async throws {
        // A long wait so the three requests surely arrive before the batch starts (debug build, CI load).
        let mesh = try await inProcessMesh(maxBatch: 16, maxBatchWaitMs: 3000)
        _ = try await trainModels(mesh, tokenizer: "tok-batch", generator: "gen-batch")
        let steps: Int32 = 40
        var a = Self.generateRequest("gen-batch", prompts: ["a red dress"], n: 2, seed: 5, steps: steps)
        var b = Self.generateRequest("gen-batch", prompts: ["a blue sneaker", "a green bag"], n: 1, seed: 7, steps: steps)
        var c = Self.generateRequest("gen-batch", prompts: ["a pink sandal"], n: 1, seed: 9, steps: steps)
        a.meta.requestID = "batch-a-\(UUID().uuidString)"; b.meta.requestID = "batch-b-\(UUID().uuidString)"
        c.meta.requestID = "batch-c-\(UUID().uuidString)"
        let client = mesh.client
        let ta = Task { try await client.call("generator.generate", a, as: Latentmesh_V1_GenerateResponse.self, timeout: .seconds(600)) }
        let tb = Task { try await client.call("generator.generate", b, as: Latentmesh_V1_GenerateResponse.self, timeout: .seconds(600)) }
        let tc = Task { try await client.call("generator.generate", c, as: Latentmesh_V1_GenerateResponse.self, timeout: .seconds(600)) }

        // Cancel b once its batch has made progress.
        let runB = try await cancelOnceProgressing(mesh, tb, requestID: b.meta.requestID)
        let ra = try await ta.value, rc = try await tc.value
        XCTAssertEqual(ra.response.images.count, 2)
        XCTAssertEqual(rc.response.images.count, 1)

        // All five images were sampled in one batch; after b left, three remained.
        let sizesA = try batchSizes(mesh, runID: ra.reply.runID), sizesC = try batchSizes(mesh, runID: rc.reply.runID)
        XCTAssertEqual(sizesA.first, 5, "a, b and c share one batch")
        XCTAssertEqual(sizesC.first, 5)
        XCTAssertEqual(sizesA.last, 3, "b left the batch")
        try mesh.store.flush()
        XCTAssertLessThan(try mesh.store.events(runID: runB, limit: 10_000).filter { $0.type == "progress" }.count, Int(steps))

        // Served alone (one after the other), a and c give the same bytes.
        a.meta.requestID = ""; c.meta.requestID = ""
        let aloneA = try await call(mesh, "generator.generate", a, as: Latentmesh_V1_GenerateResponse.self)
        XCTAssertEqual(try batchSizes(mesh, runID: aloneA.reply.runID).first, 2, "served alone")
        XCTAssertEqual(aloneA.response.images.map(\.png), ra.response.images.map(\.png))
        let aloneC = try await call(mesh, "generator.generate", c, as: Latentmesh_V1_GenerateResponse.self).response
        XCTAssertEqual(aloneC.images.map(\.png), rc.response.images.map(\.png))
        XCTAssertNotEqual(aloneC.images[0].png, aloneA.response.images[0].png)
        await mesh.close()
    }

    /// A request that arrives while a batch runs joins it at the next step boundary (continuous
    /// batching), leaves it when its own steps are done, and its images are the bytes it gets alone.
    func testARequestJoinsARunningBatchAtAStepBoundary() async throws {
        let mesh = try await inProcessMesh(maxBatch: 16, maxBatchWaitMs: 0)
        _ = try await trainModels(mesh, tokenizer: "tok-join", generator: "gen-join")
        let steps: Int32 = 120
        var a = Self.generateRequest("gen-join", prompts: ["a red dress"], n: 2, seed: 5, steps: steps)
        var b = Self.generateRequest("gen-join", prompts: ["a blue sneaker"], n: 1, seed: 7, steps: steps)
        a.meta.requestID = "join-a-\(UUID().uuidString)"; b.meta.requestID = "join-b-\(UUID().uuidString)"
        let client = mesh.client
        let ta = Task { try await client.call("generator.generate", a, as: Latentmesh_V1_GenerateResponse.self, timeout: .seconds(600)) }
        // b is sent once a's batch is sampling.
        let progressingA = try await runWithProgress(mesh, requestID: a.meta.requestID)
        XCTAssertNotNil(progressingA, "a never reported progress")
        let rb = try await client.call("generator.generate", b, as: Latentmesh_V1_GenerateResponse.self, timeout: .seconds(600))
        let ra = try await ta.value
        let sizesA = try batchSizes(mesh, runID: ra.reply.runID), sizesB = try batchSizes(mesh, runID: rb.reply.runID)
        XCTAssertEqual(sizesA.first, 2, "a started alone")
        XCTAssertEqual(sizesB.first, 3, "b joined a's running batch")
        XCTAssertEqual(sizesB.last, 1, "a left the batch when its steps were done; b went on alone")
        try mesh.store.flush()
        let stepsB = try mesh.store.events(runID: rb.reply.runID, limit: 10_000).filter { $0.type == "progress" }.compactMap { e -> Int? in
            let obj = try? JSONSerialization.jsonObject(with: Data(e.payloadJSON.utf8)) as? [String: Any]
            return (obj?["step"] as? NSNumber)?.intValue
        }
        XCTAssertEqual(stepsB.first, 1, "b started at its own step 0")
        XCTAssertEqual(stepsB.max(), Int(steps), "b took all its own steps")

        a.meta.requestID = ""; b.meta.requestID = ""
        let aloneA = try await call(mesh, "generator.generate", a, as: Latentmesh_V1_GenerateResponse.self).response
        let aloneB = try await call(mesh, "generator.generate", b, as: Latentmesh_V1_GenerateResponse.self).response
        XCTAssertEqual(aloneA.images.map(\.png), ra.response.images.map(\.png))
        XCTAssertEqual(aloneB.images.map(\.png), rb.response.images.map(\.png))
        await mesh.close()
    }
}
