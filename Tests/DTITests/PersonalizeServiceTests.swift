import ComputeCore
import Datasets
import FlowGen
import Foundation
import MeshKit
import MeshProto
import Models
import PersonalizeSvc
import RunStore
import TokenizerSvc
import VTP
import XCTest

/// personalize.learn through the in-process mesh (SQLite): a tiny tokenizer (tokenizer.train) and a
/// tiny generator checkpoint registered as the frozen models, the concept registered and resolved
/// in a prompt, and every invalid input.
final class PersonalizeServiceTests: XCTestCase {
    struct Mesh {
        let host: MeshHost
        let client: MeshClient
        let store: RunStore
        let artifacts: ArtifactStore
        var registry: ModelRegistry { ModelRegistry(artifacts: artifacts) }
        func close() async { await client.close(); await host.shutdown(); store.close() }
    }

    func inProcessMesh() async throws -> Mesh {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("personalize-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try RunStores.open(url: "sqlite:" + dir.appendingPathComponent("mesh.sqlite").path)
        try store.migrate()
        let artifacts = try ArtifactStore(root: dir.appendingPathComponent("artifacts"), store: store)
        let transport = InProcessTransport()
        let host = MeshHost(transport: transport, store: store, artifacts: artifacts)
        let tc = ServiceConfig(service: "tokenizer", worker: "tok-test"), pc = ServiceConfig(service: "personalize", worker: "dti-test")
        try await host.start([try TokenizerModule().definition(config: tc), try PersonalizeModule().definition(config: pc)]) {
            $0 == "tokenizer" ? tc : pc
        }
        return Mesh(host: host, client: try await MeshClient(transport: transport, clientName: "dti-tests"), store: store, artifacts: artifacts)
    }

    /// Trains a 2-step tokenizer and registers a tiny generator (perturbed EMA weights) on its latent grid.
    func frozenModels(_ mesh: Mesh) async throws {
        var t = Latentmesh_V1_TokenizerTrainRequest()
        t.preset = "vtp-fmnist32-xs"; t.steps = 2; t.seed = 7; t.checkpointName = "tok-p"
        _ = try await mesh.client.call("tokenizer.train", t, as: Latentmesh_V1_TokenizerTrainResult.self, timeout: .seconds(300))
        let tok = try VTPTokenizer(checkpointPath: try mesh.registry.file(try mesh.registry.record("tok-p", field: "t"), field: "t").path)
        var c = try FlowGenPresets.resolve("flowgen-xs", grid: tok.latentShape[0], channels: tok.latentShape[2])
        c.model.textTokens = 12
        let trainer = try FlowGenTrainer(config: c)
        var rng = RNG(seed: 3)
        for s in trainer.ema.shadow { s.assign(s + rng.normal(s.shape, std: 0.2)) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gen-\(UUID().uuidString).safetensors")
        try FlowGenCheckpoint.save(trainer, normalizer: .identity(channels: c.model.latentChannels), metadata: ["tokenizer": "tok-p"], to: path.path)
        let art = try mesh.artifacts.put(fileAt: path, mediaType: "application/x-safetensors")
        try mesh.registry.register(name: "gen-p", artifact: art, kind: "flowgen", service: "generator", configJSON: try c.json())
    }

    static func pngs(_ n: Int, size: Int = 32) throws -> [Data] {
        let ds = try FashionMNIST(part: .test, resolution: size, rgb: true)
        return try (0..<n).map { Data(try PNGCodec.encode(try ds.image(at: $0))) }
    }

    static func learnRequest(_ name: String = "<my-bag>", classWord: String = "bag", method: String = "dti") throws -> Latentmesh_V1_LearnConceptRequest {
        var r = Latentmesh_V1_LearnConceptRequest()
        r.conceptName = name; r.classWord = classWord; r.method = method; r.steps = 4; r.seed = 1
        r.generatorModel = "gen-p"; r.imagesPng = try pngs(3)
        return r
    }

    func expectError(_ code: ServiceError.Code, field: String, _ mesh: Mesh, _ req: Latentmesh_V1_LearnConceptRequest,
                     file: StaticString = #filePath, line: UInt = #line) async {
        do {
            _ = try await mesh.client.call("personalize.learn", req, as: Latentmesh_V1_LearnConceptResult.self, timeout: .seconds(120))
            XCTFail("expected \(code.rawValue) on \(field)", file: file, line: line)
        } catch let e as ServiceError {
            XCTAssertEqual(e.code, code, "\(e)", file: file, line: line)
            XCTAssertTrue(e.field.hasPrefix(field), "field '\(e.field)' should name \(field): \(e)", file: file, line: line)
        } catch { XCTFail("unexpected error \(error)", file: file, line: line) }
    }

    func testLearnRegistersAConceptThatPromptsResolve() async throws {
        let mesh = try await inProcessMesh()
        try await frozenModels(mesh)
        let a = try await mesh.client.call("personalize.learn", try Self.learnRequest(), as: Latentmesh_V1_LearnConceptResult.self,
                                           timeout: .seconds(300))
        let (enc, mStar) = try PersonalizeLoader().encoder()
        XCTAssertEqual(a.response.conceptName, "<my-bag>")
        XCTAssertEqual(a.response.norm, mStar, accuracy: 1e-5 * mStar)
        XCTAssertNotNil(a.response.finalMetrics["loss"])
        try? mesh.store.flush()
        let progress = try mesh.store.events(runID: a.reply.runID, limit: 1000).filter { $0.type == "progress" }
        XCTAssertTrue(progress.last?.payloadJSON.contains("token_norm") ?? false)

        // Registered: kind concept, generator as parent, vector/norm/class word/images in the record.
        let rec = try mesh.registry.record("concept.my-bag", field: "x")
        XCTAssertEqual(rec.kind, "concept")
        XCTAssertEqual(rec.parents, ["gen-p"])
        let cfg = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(rec.configJSON.utf8)) as? [String: Any])
        XCTAssertEqual(cfg["class_word"] as? String, "bag")
        XCTAssertEqual(cfg["method"] as? String, "dti")
        XCTAssertEqual((cfg["images_sha256"] as? [String])?.count, 3)
        XCTAssertEqual((cfg["vector"] as? [Double])?.count, 384)

        // Resolution in a prompt: the registered vector is the token's input embedding.
        let prompt = "a red <my-bag>"
        let names = MiniLMEncoder.extraTokenNames(in: prompt)
        let concepts = try mesh.registry.concepts(names, field: "prompt")
        XCTAssertEqual(concepts.map(\.token), ["<my-bag>"])
        let v = concepts[0].vector
        XCTAssertEqual(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), mStar, accuracy: 1e-5 * mStar)
        XCTAssertEqual(v.map(Double.init), (cfg["vector"] as? [Double])!.map { Double(Float($0)) })
        let (f, n) = enc.tokenFeatures(prompt, extraTokens: names, extra: concepts.flatMap(\.vector))
        XCTAssertEqual(n, enc.tokenize("a red bag").count)
        XCTAssertNotEqual(f, enc.tokenFeatures(ids: enc.tokenize("a red bag")))
        do { _ = try mesh.registry.concepts(["<my-bag>", "<nope>"], field: "prompt"); XCTFail("unknown concept resolved") } catch let e as ServiceError {
            XCTAssertEqual(e.code, .notFound); XCTAssertEqual(e.field, "prompt"); XCTAssertTrue(e.message.contains("<nope>"), e.message)
        }

        // Invalid inputs, each naming its field.
        var r = try Self.learnRequest("<other>"); r.imagesPng = []
        await expectError(.invalidArgument, field: "images_png", mesh, r)
        r = try Self.learnRequest("<other>"); r.imagesPng = try Self.pngs(2, size: 28)
        await expectError(.invalidArgument, field: "images_png[0]", mesh, r)
        await expectError(.invalidArgument, field: "class_word", mesh, try Self.learnRequest("<other>", classWord: "zzqxv"))
        await expectError(.invalidArgument, field: "concept_name", mesh, try Self.learnRequest("my-bag"))
        await expectError(.invalidArgument, field: "concept_name", mesh, try Self.learnRequest("<my-bag>"))
        await expectError(.invalidArgument, field: "method", mesh, try Self.learnRequest("<other>", method: "lora"))
        r = try Self.learnRequest("<other>"); r.generatorModel = "no-such-gen"
        await expectError(.notFound, field: "generator_model", mesh, r)
        await mesh.close()
    }
}
