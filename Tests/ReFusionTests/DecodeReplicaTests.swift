import Foundation
import Logging
import MeshKit
import MeshProto
import RunStore
import XCTest

/// decode-svc as separate processes on one RabbitMQ queue (real RabbitMQ + PostgreSQL):
/// a replica killed in the middle of a training run loses nothing — the request is
/// redelivered to the other replica, which resumes from the last checkpoint on the shared
/// artifact volume and answers once.
final class DecodeReplicaTests: XCTestCase {
    final class Replica {
        let process = Process()
        let worker: String
        let logURL: URL
        init(worker: String, artifacts: URL, amqp: String, db: String, dir: URL) throws {
            self.worker = worker
            logURL = dir.appendingPathComponent("\(worker).log")
            FileManager.default.createFile(atPath: logURL.path, contents: nil)
            process.executableURL = Self.binDir.appendingPathComponent("decode-svc")
            var env = ProcessInfo.processInfo.environment
            env["MESH_AMQP_URL"] = amqp; env["MESH_DATABASE_URL"] = db; env["MESH_WORKER"] = worker
            env["MESH_PREFETCH"] = "1"; env["MESH_ARTIFACTS_DIR"] = artifacts.path; env["MESH_LOG_LEVEL"] = "info"
            process.environment = env
            let fh = try FileHandle(forWritingTo: logURL)
            process.standardOutput = fh; process.standardError = fh
            try process.run()
            let until = Date().addingTimeInterval(60)
            while Date() < until && !log.contains("serving latentmesh.decode") {
                guard process.isRunning else { break }
                usleep(50_000)
            }
            guard log.contains("serving latentmesh.decode") else { throw XCTSkip("decode-svc \(worker) did not start:\n\(log)") }
        }
        var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
        func kill9() { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        func stop() { if process.isRunning { process.terminate(); process.waitUntilExit() } }

        /// Built executables sit next to the test bundle.
        static let binDir: URL = {
            var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            while url.pathComponents.count > 1 {
                url.deleteLastPathComponent()
                if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("decode-svc").path) { return url }
            }
            return URL(fileURLWithPath: ".build/debug")
        }()
    }

    static func required(_ name: String) throws -> String {
        let env = ProcessInfo.processInfo.environment
        if let v = env[name], !v.isEmpty { return v }
        if env["MESH_REQUIRE_SERVERS"] == "1" { XCTFail("\(name) is not set but MESH_REQUIRE_SERVERS=1") }
        throw XCTSkip("\(name) not set: run scripts/test (starts RabbitMQ and PostgreSQL)")
    }

    func testKilledTrainingReplicaResumesOnTheOtherAndAnswersOnce() async throws {
        let amqp = try Self.required("MESH_AMQP_URL"), db = try Self.required("MESH_DATABASE_URL")
        guard FileManager.default.isExecutableFile(atPath: Replica.binDir.appendingPathComponent("decode-svc").path) else {
            throw XCTSkip("decode-svc is not built next to the tests (swift build)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("decode-replicas-\(getpid())-\(UUID().uuidString.prefix(6))")
        let artifacts = dir.appendingPathComponent("artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try RunStores.open(url: db)
        defer { store.close() }
        let transport = try AMQPTransport(url: amqp, name: "decode-replica-tests", logger: Logger(label: "test"))
        let client = try await MeshClient(transport: transport, clientName: "decode-replica-tests")
        let a = try Replica(worker: "decode-a-\(getpid())", artifacts: artifacts, amqp: amqp, db: db, dir: dir)
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
        let b = try Replica(worker: "decode-b-\(getpid())", artifacts: artifacts, amqp: amqp, db: db, dir: dir)
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
