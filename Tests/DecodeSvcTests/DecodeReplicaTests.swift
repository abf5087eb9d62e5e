import Foundation
import Logging
import MeshKit
import MeshProto
import RunStore
import MeshTesting
import XCTest

/// decode-svc as separate processes on one RabbitMQ queue (real RabbitMQ + PostgreSQL):
/// a replica killed in the middle of a training run loses nothing — the request is
/// redelivered to the other replica, which resumes from the last checkpoint on the shared
/// artifact volume and answers once.
final class DecodeReplicaTests: XCTestCase {
    func testKilledTrainingReplicaResumesOnTheOtherAndAnswersOnce() async throws {
        let amqp = try TestEnvironment.amqpURL(), db = try TestEnvironment.databaseURL()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("decode-replicas-\(getpid())-\(UUID().uuidString.prefix(6))")
        let artifacts = dir.appendingPathComponent("artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try RunStores.open(url: db)
        defer { store.close() }
        let transport = try AMQPTransport(url: amqp, name: "decode-replica-tests", logger: Logger(label: "test"))
        let client = try await MeshClient(transport: transport, clientName: "decode-replica-tests")
        // A replica that crashes or never serves fails the test (ServiceProcess.start throws).
        func replica(_ worker: String) throws -> ServiceProcess {
            let p = try ServiceProcess("decode", worker: worker, prefetch: 1, artifacts: artifacts)
            try p.start()
            return p
        }
        let a = try replica("decode-a-\(getpid())")
        defer { a.stop() }

        var t = Latentmesh_V1_DecodeTrainRequest()
        t.preset = "tiny"; t.objective = "ar"; t.steps = 150
        t.modelName = "replica-\(UUID().uuidString.prefix(8))"
        t.meta.requestID = "decode-kill-\(UUID().uuidString)"
        let call = Task { try await client.call("decode.train", t, as: Latentmesh_V1_DecodeTrainResult.self, timeout: .seconds(600)) }
        // wait until A has passed its first checkpoint (step 100)
        let until = Date().addingTimeInterval(300)
        var passed = false
        while Date() < until && !passed {
            if let run = try store.run(requestID: t.meta.requestID) {
                passed = try store.events(runID: run.runID, limit: 1000).contains { e in
                    guard e.type == "progress",
                          let o = try? JSONSerialization.jsonObject(with: Data(e.payloadJSON.utf8)) as? [String: Any],
                          let step = o["step"] as? Int else { return false }
                    return step >= 110
                }
            }
            if !passed { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        XCTAssertTrue(passed, "replica A reached step 110; log:\n\(a.log)")
        a.kill9()
        let b = try replica("decode-b-\(getpid())")
        defer { b.stop() }
        let answer = try await call.value
        XCTAssertEqual(answer.reply.worker, b.worker, "the redelivered training run completes on replica B")
        XCTAssertEqual(answer.response.modelName, t.modelName)
        XCTAssertTrue(b.log.contains("resumed \(t.modelName) from this run's newest checkpoint at step"), "B resumes from A's checkpoint; log:\n\(b.log)")
        let run = try XCTUnwrap(try store.run(requestID: t.meta.requestID))
        XCTAssertEqual(run.status, .succeeded)
        XCTAssertEqual(run.attempts, 2)
        // the model is installed on the shared volume and served by the survivor
        var r = Latentmesh_V1_DecodeRunRequest()
        r.prompt = "3+4="; r.mode = "ar"; r.modelName = t.modelName; r.maxTokens = 8
        let gen = try await client.call("decode.run", r, as: Latentmesh_V1_DecodeRunResponse.self, timeout: .seconds(60))
        XCTAssertEqual(gen.reply.worker, b.worker)
        XCTAssertLessThanOrEqual(gen.response.generatedTokens, 8)
        await client.close()
        await transport.close()
    }
}
