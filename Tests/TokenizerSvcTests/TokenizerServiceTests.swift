import Datasets
import Foundation
import Logging
import MeshKit
import MeshProto
import RunStore
import TokenizerSvc
import VTP
import MeshTesting
import SwiftProtobuf
import TestKit
import VTP
import XCTest

/// tokenizer.{train,encode,decode} through the mesh: in-process (SQLite) and over RabbitMQ
/// (PostgreSQL, a real tokenizer-svc process).
final class TokenizerServiceTests: XCTestCase {
    static func tempDir(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vtp-svc-\(getpid())-\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    struct Mesh {
        let host: MeshHost?
        let client: MeshClient
        let store: RunStore
        let transport: MeshTransport
        func close() async { await client.close(); await host?.shutdown(); store.close() }
    }

    func inProcessMesh() async throws -> Mesh {
        try Self.requireMiniLM()
        let m = try await InProcessMesh.start(modules: [TokenizerModule()], worker: "vtp-test")
        return Mesh(host: m.host, client: m.client, store: m.store, transport: m.transport)
    }

    /// MiniLM (the frozen text encoder training needs); missing fails under the test command.
    static func requireMiniLM() throws {
        do { _ = try TextEmbeddingCache.miniLM() } catch {
            throw TestRequirement.missing("MiniLM", hint: "run scripts/prepare-models (\(error))")
        }
    }

    static func trainRequest(_ name: String, steps: Int64 = 3, resume: Bool = false) -> Latentmesh_V1_TokenizerTrainRequest {
        var r = Latentmesh_V1_TokenizerTrainRequest()
        r.preset = "vtp-fmnist32-xs"; r.steps = steps; r.seed = 7; r.checkpointName = name; r.resume = resume
        return r
    }

    static func pngs(_ n: Int, size: Int = 32) throws -> [Data] {
        let ds = try FashionMNIST(part: .test, resolution: size, rgb: true)
        return try (0..<n).map { Data(try PNGCodec.encode(try ds.image(at: $0))) }
    }


    /// Calls through the mesh. On the shared stack, workers of other checkouts (without these
    /// methods) may compete for the same queue: their routing-key NOT_FOUND is retried.
    func call<Req: MeshRequest, Resp: SwiftProtobuf.Message>(_ mesh: Mesh, _ key: String, _ req: Req, as: Resp.Type,
                                                            timeout: Duration = .seconds(60)) async throws -> MeshClient.Answer<Resp> {
        var attempt = 0
        while true {
            do { return try await mesh.client.call(key, req, as: Resp.self, timeout: timeout) } catch let e as ServiceError
                where mesh.host == nil && e.code == .notFound && e.field == "routing_key" && attempt < 30 {
                attempt += 1
            }
        }
    }

    /// Train -> encode -> decode, plus every invalid input.
    func roundTrip(_ mesh: Mesh, name: String) async throws {
        try Self.requireMiniLM()
        let t = try await self.call(mesh, "tokenizer.train", Self.trainRequest(name), as: Latentmesh_V1_TokenizerTrainResult.self,
                                 timeout: .seconds(300))
        XCTAssertEqual(t.response.checkpointName, name)
        XCTAssertEqual(t.response.steps, 3)
        XCTAssertEqual(t.response.checkpoint.sha256.count, 64)
        for k in ["loss", "loss_rec", "loss_clip", "loss_dino", "loss_ibot", "dino_teacher_entropy", "dino_batch_entropy"] {
            XCTAssertNotNil(t.response.finalMetrics[k], k)
        }
        _ = mesh.store.flushQuietly()
        let events = try mesh.store.events(runID: t.reply.runID, limit: 1000).filter { $0.type == "progress" }
        XCTAssertFalse(events.isEmpty, "training reports progress")
        XCTAssertTrue(events.last!.payloadJSON.contains("loss_dino"))
        let cfgEvent = try XCTUnwrap(try mesh.store.events(runID: t.reply.runID, limit: 1000).first { $0.type == "config" })
        let cfgObj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(cfgEvent.payloadJSON.utf8)) as? [String: Any])
        let resolved = try XCTUnwrap(cfgObj["resolved_config"] as? [String: Any])
        XCTAssertEqual(resolved["preset"] as? String, "vtp-fmnist32-xs")
        XCTAssertEqual(((resolved["loss"] as? [String: Any])?["recWeight"] as? Double) ?? -1, 0.1, accuracy: 1e-6)

        var enc = Latentmesh_V1_EncodeRequest()
        enc.checkpointName = name
        enc.imagesPng = try Self.pngs(3)
        let e = try await self.call(mesh, "tokenizer.encode", enc, as: Latentmesh_V1_EncodeResponse.self, timeout: .seconds(60))
        XCTAssertEqual(e.response.latents.count, 3)
        XCTAssertEqual(e.response.latents[0].shape, [8, 8, 4])
        XCTAssertEqual(e.response.latents[0].values.count, 256)
        XCTAssertNotEqual(e.response.latents[0].values, e.response.latents[1].values)

        var dec = Latentmesh_V1_DecodeLatentsRequest()
        dec.checkpointName = name
        dec.latents = e.response.latents
        let d = try await self.call(mesh, "tokenizer.decode", dec, as: Latentmesh_V1_DecodeLatentsResponse.self, timeout: .seconds(60))
        XCTAssertEqual(d.response.imagesPng.count, 3)
        let img = try PNGCodec.decode([UInt8](d.response.imagesPng[0]))
        XCTAssertEqual([img.width, img.height], [32, 32])

        // Invalid inputs.
        var bad = enc; bad.imagesPng = []
        await assertServiceError(.invalidArgument, field: "images_png") { try await self.call(mesh, "tokenizer.encode", bad, as: Latentmesh_V1_EncodeResponse.self) }
        bad = enc; bad.imagesPng = Array(repeating: enc.imagesPng[0], count: TokenizerService.maxBatch + 1)
        await assertServiceError(.invalidArgument, field: "images_png.count") { try await self.call(mesh, "tokenizer.encode", bad, as: Latentmesh_V1_EncodeResponse.self) }
        bad = enc; bad.imagesPng = try Self.pngs(1, size: 28)
        await assertServiceError(.invalidArgument, field: "images_png[0]") { try await self.call(mesh, "tokenizer.encode", bad, as: Latentmesh_V1_EncodeResponse.self) }
        bad = enc; bad.imagesPng = [Data("not a png".utf8)]
        await assertServiceError(.invalidArgument, field: "images_png[0]") { try await self.call(mesh, "tokenizer.encode", bad, as: Latentmesh_V1_EncodeResponse.self) }
        bad = enc; bad.checkpointName = "no-such-checkpoint"
        await assertServiceError(.notFound, field: "checkpoint_name") { try await self.call(mesh, "tokenizer.encode", bad, as: Latentmesh_V1_EncodeResponse.self) }
        var badDec = dec; badDec.latents[0].shape = [4, 4, 4]
        await assertServiceError(.invalidArgument, field: "latents[0].shape") { try await self.call(mesh, "tokenizer.decode", badDec, as: Latentmesh_V1_DecodeLatentsResponse.self) }
        badDec = dec; badDec.latents = []
        await assertServiceError(.invalidArgument, field: "latents") { try await self.call(mesh, "tokenizer.decode", badDec, as: Latentmesh_V1_DecodeLatentsResponse.self) }
        badDec = dec; badDec.checkpointName = "missing"
        await assertServiceError(.notFound, field: "checkpoint_name") { try await self.call(mesh, "tokenizer.decode", badDec, as: Latentmesh_V1_DecodeLatentsResponse.self) }
        var badTrain = Self.trainRequest(name); badTrain.preset = "bogus"
        await assertServiceError(.invalidArgument, field: "preset") { try await self.call(mesh, "tokenizer.train", badTrain, as: Latentmesh_V1_TokenizerTrainResult.self) }
        badTrain = Self.trainRequest(name, steps: -1)
        await assertServiceError(.invalidArgument, field: "steps") { try await self.call(mesh, "tokenizer.train", badTrain, as: Latentmesh_V1_TokenizerTrainResult.self) }
        badTrain = Self.trainRequest(name); badTrain.trainLimit = -5
        await assertServiceError(.invalidArgument, field: "train_limit") { try await self.call(mesh, "tokenizer.train", badTrain, as: Latentmesh_V1_TokenizerTrainResult.self) }
        badTrain.trainLimit = 64
        XCTAssertEqual(try XCTUnwrap(try TokenizerService.validate(badTrain).vtp).train.trainLimit, 64, "train_limit reaches the config")
        badTrain.configOverrides = ["train.sslBatch=6", "loss.centerMomentum=0.99"]
        let overridden = try XCTUnwrap(try TokenizerService.validate(badTrain).vtp)
        XCTAssertEqual(overridden.train.sslBatch, 6, "config_overrides reach the config")
        XCTAssertEqual(overridden.loss.centerMomentum, 0.99)
        badTrain.configOverrides = ["train.sslBatch=0"]   // the config's own limit (1...batchSize)
        await assertServiceError(.invalidArgument, field: "config_overrides") { try await self.call(mesh, "tokenizer.train", badTrain, as: Latentmesh_V1_TokenizerTrainResult.self) }
        badTrain.configOverrides = ["loss.centreMomentum=0.99"]
        await assertServiceError(.invalidArgument, field: "config_overrides") { try await self.call(mesh, "tokenizer.train", badTrain, as: Latentmesh_V1_TokenizerTrainResult.self) }
        // Crop scales: unset in every preset (absent from its recorded JSON, DINOv2's ranges), set by overrides, checked.
        XCTAssertFalse(try VTPPresets.resolve("ssl-ae-fmnistc32-s").json().contains("CropM"), "an unset knob leaves the recorded configuration as it was")
        badTrain.configOverrides = ["train.localCropMin=0.25", "train.localCropMax=0.6"]
        let crops = try XCTUnwrap(try TokenizerService.validate(badTrain).vtp).train
        XCTAssertEqual(crops.localCropScale, 0.25...0.6)
        XCTAssertEqual(crops.globalCropScale, 0.32...1)
        badTrain.configOverrides = ["train.localCropMin=0.7", "train.localCropMax=0.6"]
        await assertServiceError(.invalidArgument, field: "config_overrides") { try await self.call(mesh, "tokenizer.train", badTrain, as: Latentmesh_V1_TokenizerTrainResult.self) }
    }

    func testInProcessRoundTripAndInvalidInputs() async throws {
        let mesh = try await inProcessMesh()
        try await roundTrip(mesh, name: "rt-inproc")
        await mesh.close()
    }

    func testResumeContinuesFromNewestCheckpoint() async throws {
        let mesh = try await inProcessMesh()
        let first = try await mesh.client.call("tokenizer.train", Self.trainRequest("resume-me", steps: 2),
                                               as: Latentmesh_V1_TokenizerTrainResult.self, timeout: .seconds(300))
        XCTAssertEqual(first.response.steps, 2)
        let second = try await mesh.client.call("tokenizer.train", Self.trainRequest("resume-me", steps: 4, resume: true),
                                                as: Latentmesh_V1_TokenizerTrainResult.self, timeout: .seconds(300))
        XCTAssertEqual(second.response.steps, 4)
        XCTAssertNotEqual(first.response.checkpoint.sha256, second.response.checkpoint.sha256)
        _ = mesh.store.flushQuietly()
        let steps = try mesh.store.events(runID: second.reply.runID, limit: 100).filter { $0.type == "progress" }
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.payloadJSON.utf8)) as? [String: Any] }
            .compactMap { $0["step"] as? Int }
        XCTAssertFalse(steps.isEmpty)
        XCTAssertTrue(steps.allSatisfy { $0 > 2 }, "resumed run only runs steps 3...4, saw \(steps)")
        await mesh.close()
    }

    func testCancellationStopsTraining() async throws {
        let mesh = try await inProcessMesh()
        var req = Self.trainRequest("cancel-me", steps: 100_000)
        req.meta.requestID = "cancel-\(UUID().uuidString)"
        let client = mesh.client
        let call = Task { try await client.call("tokenizer.train", req, as: Latentmesh_V1_TokenizerTrainResult.self, timeout: .seconds(300)) }
        var runID: String?
        let until = Date().addingTimeInterval(120)
        while Date() < until {
            _ = mesh.store.flushQuietly()
            if let r = try mesh.store.run(requestID: req.meta.requestID),
               try !mesh.store.events(runID: r.runID, limit: 10).filter({ $0.type == "progress" }).isEmpty {
                runID = r.runID; break
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let id = try XCTUnwrap(runID, "training never reported progress")
        try await client.cancel(runID: id, reason: "test")
        do {
            _ = try await call.value
            XCTFail("cancelled training must not succeed")
        } catch let e as ServiceError {
            XCTAssertEqual(e.code, .cancelled, "\(e)")
        }
        await mesh.close()
    }

    func testOverRabbitMQWithPostgres() async throws {
        try Self.requireMiniLM()
        let db = try TestEnvironment.databaseURL()
        let svc = try ServiceProcess("tokenizer", worker: "vtp-amqp-\(getpid())")
        try svc.start()
        defer { svc.stop() }
        let store = try RunStores.open(url: db)
        try store.migrate()
        let transport = try AMQPTransport(url: try TestEnvironment.amqpURL(), name: "vtp-tests", logger: Logger(label: "vtp-tests"))
        let client = try await MeshClient(transport: transport, clientName: "vtp-tests")
        try await roundTrip(Mesh(host: nil, client: client, store: store, transport: transport), name: "rt-amqp-\(getpid())")
        await client.close(); await transport.close(); store.close()
        svc.signal(SIGTERM)
        XCTAssertEqual(svc.waitExit(timeout: 30), 0, "tokenizer-svc should exit 0 on SIGTERM; log:\n\(svc.log)")
    }
}

extension RunStore {
    /// Flushes pending audit writes, ignoring errors (tests read right after).
    func flushQuietly() -> Bool { (try? flush()) != nil }
}

/// A killed worker's request comes back with attempt > 1 and continues from the newest checkpoint.
final class TokenizerRedeliveryTests: XCTestCase {
    func testRedeliveredTrainResumesFromNewestCheckpoint() async throws {
        try TokenizerServiceTests.requireMiniLM()
        let dir = TokenizerServiceTests.tempDir("redeliver")
        let store = try TestEnvironment.sqliteStore(in: dir)
        let artifacts = try ArtifactStore(root: dir.appendingPathComponent("artifacts"), store: store)
        let train = try XCTUnwrap(TokenizerService.methods(loader: TokenizerLoader()).first { $0.routingKey == "tokenizer.train" })
        func context(_ run: String, attempt: Int) -> RunContext {
            RunContext(runID: run, requestID: "req-redeliver", service: "tokenizer", kind: "tokenizer.train", worker: "w",
                       attempt: attempt, deadline: nil, logger: Logger(label: "test"), store: store, artifacts: artifacts,
                       emit: { _ in })
        }
        // Attempt 1 dies (here: is cancelled) after its first periodic checkpoint at step 10.
        let req = TokenizerServiceTests.trainRequest("redeliver", steps: 14)
        let first = context("run-1", attempt: 1)
        func checkpointSteps() -> [Int] {
            ((try? store.events(runID: "run-1", limit: 1000)) ?? []).filter { $0.type == "checkpoint" }
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.payloadJSON.utf8)) as? [String: Any] }
                .compactMap { $0["step"] as? Int }
        }
        let killer = Task {
            while checkpointSteps().isEmpty { try await Task.sleep(nanoseconds: 20_000_000) }
            first.cancel(reason: "worker killed")
        }
        do { _ = try await train.body(try req.serializedData(), first); XCTFail("attempt 1 should stop") } catch {}
        _ = try await killer.value
        XCTAssertNil(try store.model(name: "redeliver"), "an unfinished run registers no model")
        let savedStep = try XCTUnwrap(checkpointSteps().last)
        XCTAssertEqual(savedStep % 10, 0)
        // Attempt 2 (the redelivery) resumes there and finishes.
        _ = store.flushQuietly()
        let before = try store.events(runID: "run-1", limit: 1000).count
        let second = context("run-1", attempt: 2)
        let out = try Latentmesh_V1_TokenizerTrainResult(serializedBytes: try await train.body(try req.serializedData(), second))
        XCTAssertEqual(out.steps, 14)
        _ = store.flushQuietly()
        let steps = try store.events(runID: "run-1", limit: 1000).dropFirst(before).filter { $0.type == "progress" }
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.payloadJSON.utf8)) as? [String: Any] }
            .compactMap { $0["step"] as? Int }
        XCTAssertEqual(steps.last, 14)
        XCTAssertTrue(steps.allSatisfy { $0 > savedStep }, "attempt 2 continues after step \(savedStep), saw \(steps)")
        let model = try XCTUnwrap(try store.model(name: "redeliver"))
        XCTAssertEqual(model.sha256, out.checkpoint.sha256)
        XCTAssertEqual(model.service, "tokenizer")
        store.close()
    }
}
