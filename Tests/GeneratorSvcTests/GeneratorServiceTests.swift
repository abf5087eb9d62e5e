import Datasets
import FlowGen
import Foundation
import GeneratorSvc
import Logging
import MeshKit
import MeshTesting
import MeshProto
import RunStore
import SwiftProtobuf
import TokenizerSvc
import XCTest

/// generator.{train,generate} through the mesh with tokenizer-svc co-hosted: in process (SQLite)
/// and over RabbitMQ + PostgreSQL (real tokenizer-svc and generator-svc processes).
final class GeneratorServiceTests: XCTestCase {
    struct Mesh {
        let host: MeshHost?
        let client: MeshClient
        let store: RunStore
        let procs: [Process]
        func close() async {
            await client.close(); await host?.shutdown()
            for p in procs where p.isRunning { p.terminate(); p.waitUntilExit() }
            store.close()
        }
    }

    static func tempDir(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gen-svc-\(getpid())-\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func inProcessMesh(maxBatch: Int = 16, maxBatchWaitMs: Int = 2) async throws -> Mesh {
        let dir = Self.tempDir("inproc")
        let store = try TestEnvironment.sqliteStore(in: dir)
        let artifacts = try ArtifactStore(root: dir.appendingPathComponent("artifacts"), store: store)
        let transport = InProcessTransport()
        let host = MeshHost(transport: transport, store: store, artifacts: artifacts)
        let cfg = { (s: String) in
            var c = ServiceConfig(service: s, worker: "gen-test")
            c.maxBatch = maxBatch; c.maxBatchWaitMs = maxBatchWaitMs
            return c
        }
        try await host.start(modules: [TokenizerModule(), GeneratorModule()], config: cfg)
        return Mesh(host: host, client: try await MeshClient(transport: transport, clientName: "gen-tests"), store: store, procs: [])
    }

    func call<Req: MeshRequest, Resp: SwiftProtobuf.Message>(_ mesh: Mesh, _ key: String, _ req: Req, as: Resp.Type,
                                                            timeout: Duration = .seconds(300)) async throws -> MeshClient.Answer<Resp> {
        var attempt = 0
        while true {
            do { return try await mesh.client.call(key, req, as: Resp.self, timeout: timeout) } catch let e as ServiceError
                where mesh.host == nil && e.code == .notFound && e.field == "routing_key" && attempt < 30 {
                attempt += 1   // another checkout's worker on the shared stack without this method
            }
        }
    }

    /// Trains a tiny tokenizer on fmnist-color and a tiny generator on its latents.
    func trainModels(_ mesh: Mesh, tokenizer: String, generator: String) async throws -> Latentmesh_V1_GeneratorTrainResult {
        var t = Latentmesh_V1_TokenizerTrainRequest()
        t.preset = "vtp-fmnistc32-xs"; t.steps = 2; t.seed = 3; t.checkpointName = tokenizer
        _ = try await call(mesh, "tokenizer.train", t, as: Latentmesh_V1_TokenizerTrainResult.self)
        var g = Latentmesh_V1_GeneratorTrainRequest()
        g.preset = "flowgen-xs"; g.tokenizerCheckpoint = tokenizer; g.steps = 4; g.seed = 1; g.modelName = generator
        g.trainLimit = 16; g.previewEvery = 2
        return try await call(mesh, "generator.train", g, as: Latentmesh_V1_GeneratorTrainResult.self).response
    }

    static func generateRequest(_ model: String, prompts: [String], n: Int32, seed: UInt64, steps: Int32 = 3) -> Latentmesh_V1_GenerateRequest {
        var r = Latentmesh_V1_GenerateRequest()
        r.modelName = model; r.prompts = prompts; r.n = n; r.seed = seed; r.steps = steps; r.guidance = 2.5; r.sampler = "heun"
        return r
    }

    /// Train (with the tokenizer as registry parent, caches reused by a second run), generate with
    /// tagged PNGs stored as artifacts, byte-identical images whatever else is in the request.
    func roundTrip(_ mesh: Mesh, suffix: String) async throws {
        let tokName = "tok-\(suffix)", genName = "gen-\(suffix)"
        let trained = try await trainModels(mesh, tokenizer: tokName, generator: genName)
        XCTAssertEqual(trained.modelName, genName)
        XCTAssertEqual(trained.steps, 4)
        XCTAssertEqual(trained.tokenizer, tokName)
        for k in ["loss", "mse", "cos", "grad_norm", "lr"] { XCTAssertNotNil(trained.finalMetrics[k], k) }
        let rec = try XCTUnwrap(try mesh.store.model(name: genName))
        XCTAssertEqual(rec.parents, [tokName])
        XCTAssertEqual(rec.kind, GeneratorService.modelKind)

        let a = try await call(mesh, "generator.generate",
                               Self.generateRequest(genName, prompts: ["a red dress", "a blue sneaker"], n: 2, seed: 10),
                               as: Latentmesh_V1_GenerateResponse.self)
        let r = a.response
        XCTAssertEqual(r.images.count, 4)
        XCTAssertEqual(r.images.map(\.prompt), ["a red dress", "a red dress", "a blue sneaker", "a blue sneaker"])
        XCTAssertEqual(r.images.map(\.seed), [10, 11, 10, 11])
        XCTAssertEqual(r.tokenizer, tokName)
        let tags = try PNGText.dictionary([UInt8](r.images[3].png))
        XCTAssertEqual(tags["prompt"], "a blue sneaker")
        XCTAssertEqual(tags["seed"], "11")
        XCTAssertEqual(tags["steps"], "3")
        XCTAssertEqual(tags["guidance"], "2.5")
        XCTAssertEqual(tags["sampler"], "heun")
        XCTAssertEqual(tags["model"], genName)
        XCTAssertEqual(tags["tokenizer"], tokName)
        XCTAssertNotNil(tags["commit"])
        let img = try PNGCodec.decode([UInt8](r.images[0].png))
        XCTAssertEqual([img.width, img.height], [32, 32])
        XCTAssertEqual(r.images[0].artifact.sha256.count, 64)
        try mesh.store.flush()
        let progress = try mesh.store.events(runID: a.reply.runID, limit: 1000).filter { $0.type == "progress" }
        XCTAssertEqual(progress.count, 3, "one progress event per sampler step")

        // The same (model, prompt, seed, steps, guidance) alone gives the same bytes.
        let alone = try await call(mesh, "generator.generate",
                                   Self.generateRequest(genName, prompts: ["a blue sneaker"], n: 1, seed: 11),
                                   as: Latentmesh_V1_GenerateResponse.self).response
        XCTAssertEqual(alone.images[0].png, r.images[3].png)

        // A second training run on the same tokenizer and data reuses both caches.
        // (Training caches only: evaluations on the same store add `cache.eval.*` entries.)
        func trainingCaches() throws -> [ModelRecord] {
            try mesh.store.listModels(ModelQuery(service: "generator", limit: 1000))
                .filter { $0.name.hasPrefix("cache.latents.") || $0.name.hasPrefix("cache.text.") }
        }
        let cachesBefore = try trainingCaches()
        XCTAssertEqual(Set(cachesBefore.map(\.kind)), ["latent-cache", "text-cache"])
        _ = try await trainModelsAgain(mesh, tokenizer: tokName, generator: genName + "-b")
        let cachesAfter = try trainingCaches()
        XCTAssertEqual(Set(cachesAfter.map(\.sha256)), Set(cachesBefore.map(\.sha256)))
    }

    func trainModelsAgain(_ mesh: Mesh, tokenizer: String, generator: String) async throws -> Latentmesh_V1_GeneratorTrainResult {
        var g = Latentmesh_V1_GeneratorTrainRequest()
        g.preset = "flowgen-xs"; g.tokenizerCheckpoint = tokenizer; g.steps = 2; g.seed = 2; g.modelName = generator; g.trainLimit = 16
        return try await call(mesh, "generator.train", g, as: Latentmesh_V1_GeneratorTrainResult.self).response
    }

    func testInProcessRoundTrip() async throws {
        let mesh = try await inProcessMesh()
        try await roundTrip(mesh, suffix: "inproc")
        await mesh.close()
    }

    /// Every invalid field of both methods names the field (and the limit); unknown models are NOT_FOUND.
    func testEveryInvalidField() async throws {
        let mesh = try await inProcessMesh()
        func gen(_ edit: (inout Latentmesh_V1_GenerateRequest) -> Void) -> Latentmesh_V1_GenerateRequest {
            var r = Self.generateRequest("some-model", prompts: ["a red dress"], n: 1, seed: 0); edit(&r); return r
        }
        let bad: [(String, Latentmesh_V1_GenerateRequest)] = [
            ("prompts", gen { $0.prompts = [] }),
            ("prompts.count", gen { $0.prompts = Array(repeating: "a red dress", count: 65) }),
            ("prompts[1]", gen { $0.prompts = ["a red dress", "  "] }),
            ("prompts[0].length", gen { $0.prompts = [String(repeating: "x", count: 301)] }),
            ("n", gen { $0.n = 17 }), ("n", gen { $0.n = -1 }),
            ("steps", gen { $0.steps = 1001 }), ("steps", gen { $0.steps = -2 }),
            ("guidance", gen { $0.guidance = 20.5 }), ("guidance", gen { $0.guidance = -1 }), ("guidance", gen { $0.guidance = .nan }),
            ("sampler", gen { $0.sampler = "rk4" }),
            ("preview_every", gen { $0.previewEvery = -1 }),
            ("model_name", gen { $0.modelName = "bad name!" }),
        ]
        for (field, req) in bad {
            await assertServiceError(.invalidArgument, field: field) {
                try await self.call(mesh, "generator.generate", req, as: Latentmesh_V1_GenerateResponse.self)
            }
        }
        do {
            _ = try await call(mesh, "generator.generate", gen { $0.steps = 5000 }, as: Latentmesh_V1_GenerateResponse.self)
        } catch let e as ServiceError { XCTAssertTrue(e.message.contains("1...1000"), "limit named: \(e)") }
        await assertServiceError(.notFound, field: "model_name") {
            try await self.call(mesh, "generator.generate", gen { $0.modelName = "no-such-model" }, as: Latentmesh_V1_GenerateResponse.self)
        }
        func train(_ edit: (inout Latentmesh_V1_GeneratorTrainRequest) -> Void) -> Latentmesh_V1_GeneratorTrainRequest {
            var r = Latentmesh_V1_GeneratorTrainRequest(); r.preset = "flowgen-xs"; r.tokenizerCheckpoint = "tok"; edit(&r); return r
        }
        let badTrain: [(String, Latentmesh_V1_GeneratorTrainRequest)] = [
            ("preset", train { $0.preset = "flowgen-huge" }),
            ("tokenizer_checkpoint", train { $0.tokenizerCheckpoint = "" }),
            ("tokenizer_checkpoint", train { $0.tokenizerCheckpoint = "bad name!" }),
            ("steps", train { $0.steps = -1 }), ("steps", train { $0.steps = 2_000_000 }),
            ("model_name", train { $0.modelName = ".hidden" }),
            ("preview_every", train { $0.previewEvery = -5 }),
            ("train_limit", train { $0.trainLimit = -1 }),
        ]
        for (field, req) in badTrain {
            await assertServiceError(.invalidArgument, field: field) {
                try await self.call(mesh, "generator.train", req, as: Latentmesh_V1_GeneratorTrainResult.self)
            }
        }
        await assertServiceError(.notFound, field: "tokenizer_checkpoint") {
            try await self.call(mesh, "generator.train", train { $0.tokenizerCheckpoint = "no-such-tokenizer" },
                                as: Latentmesh_V1_GeneratorTrainResult.self)
        }
        await mesh.close()
    }

    /// The run id of request `requestID` once it has published a progress event (nil after `timeout` s).
    func runWithProgress(_ mesh: Mesh, requestID: String, timeout: Double = 300) async throws -> String? {
        let until = Date().addingTimeInterval(timeout)
        while Date() < until {
            try? mesh.store.flush()
            if let r = try mesh.store.run(requestID: requestID),
               try !mesh.store.events(runID: r.runID, limit: 10).filter({ $0.type == "progress" }).isEmpty {
                return r.runID
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return nil
    }

    /// Cancels request `requestID` (running as `call`) once it reports progress and checks that the
    /// call ends CANCELLED; returns its run id.
    func cancelOnceProgressing<T>(_ mesh: Mesh, _ call: Task<T, Error>, requestID: String,
                                  file: StaticString = #filePath, line: UInt = #line) async throws -> String {
        let progressing = try await runWithProgress(mesh, requestID: requestID)
        let id = try XCTUnwrap(progressing, "\(requestID) never reported progress", file: file, line: line)
        try await mesh.client.cancel(runID: id, reason: "test")
        do {
            _ = try await call.value
            XCTFail("the cancelled request must not succeed", file: file, line: line)
        } catch let e as ServiceError { XCTAssertEqual(e.code, .cancelled, "\(e)", file: file, line: line) }
        return id
    }

    /// Cancelling a run by id stops sampling between steps: CANCELLED, well before its 1000 steps.
    func testCancellationInTheMiddleOfSampling() async throws {
        let mesh = try await inProcessMesh()
        _ = try await trainModels(mesh, tokenizer: "tok-cancel", generator: "gen-cancel")
        var req = Self.generateRequest("gen-cancel", prompts: ["a red dress"], n: 4, seed: 0, steps: 1000)
        req.meta.requestID = "cancel-\(UUID().uuidString)"
        let client = mesh.client
        let call = Task { try await client.call("generator.generate", req, as: Latentmesh_V1_GenerateResponse.self, timeout: .seconds(300)) }
        let id = try await cancelOnceProgressing(mesh, call, requestID: req.meta.requestID)
        try mesh.store.flush()
        let steps = try mesh.store.events(runID: id, limit: 10_000).filter { $0.type == "progress" }.count
        XCTAssertLessThan(steps, 1000, "stopped between steps")
        await mesh.close()
    }

    func testOverRabbitMQWithPostgres() async throws {
        let env = ProcessInfo.processInfo.environment
        func required(_ k: String) throws -> String {
            if let v = env[k], !v.isEmpty { return v }
            if env["MESH_REQUIRE_SERVERS"] == "1" || env["MESH_REQUIRE_ALL"] == "1" { XCTFail("\(k) not set but servers are required") }
            throw XCTSkip("\(k) not set: run scripts/test (starts RabbitMQ and PostgreSQL)")
        }
        let amqp = try required("MESH_AMQP_URL"), db = try required("MESH_DATABASE_URL")
        let dir = Self.tempDir("amqp")
        var procs: [Process] = []
        var logs: [URL] = []
        for svc in ["tokenizer", "generator"] {
            var bin = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            var exe: URL?
            while bin.pathComponents.count > 1 {
                bin.deleteLastPathComponent()
                let cand = bin.appendingPathComponent("\(svc)-svc")
                if FileManager.default.isExecutableFile(atPath: cand.path) { exe = cand; break }
            }
            let p = Process()
            p.executableURL = try XCTUnwrap(exe, "build \(svc)-svc first (swift build)")
            var penv = env
            penv["MESH_AMQP_URL"] = amqp; penv["MESH_DATABASE_URL"] = db
            penv["MESH_WORKER"] = "gen-amqp-\(svc)-\(getpid())"
            penv["MESH_ARTIFACTS_DIR"] = dir.appendingPathComponent("artifacts").path   // shared volume
            penv["MESH_LOG_LEVEL"] = "info"
            p.environment = penv
            let log = dir.appendingPathComponent("\(svc).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let fh = try FileHandle(forWritingTo: log)
            p.standardOutput = fh; p.standardError = fh
            try p.run()
            procs.append(p); logs.append(log)
        }
        for (svc, log) in zip(["tokenizer", "generator"], logs) {
            let until = Date().addingTimeInterval(60)
            func text() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
            while Date() < until && !text().contains("serving latentmesh.\(svc)") { usleep(100_000) }
            XCTAssertTrue(text().contains("serving latentmesh.\(svc)"), "\(svc)-svc did not start:\n\(text())")
        }
        let store = try RunStores.open(url: db)
        try store.migrate()
        let transport = try AMQPTransport(url: amqp, name: "gen-tests", logger: Logger(label: "gen-tests"))
        let client = try await MeshClient(transport: transport, clientName: "gen-tests")
        let mesh = Mesh(host: nil, client: client, store: store, procs: procs)
        try await roundTrip(mesh, suffix: "amqp-\(getpid())")
        await client.close(); await transport.close()
        for p in procs { p.terminate(); p.waitUntilExit(); XCTAssertEqual(p.terminationStatus, 0) }
        store.close()
    }
}
