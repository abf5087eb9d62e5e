import ComputeCore
import Datasets
import FlowGen
import GeneratorSvc
import Foundation
import MeshKit
import MeshProto
import PersonalizeSvc
import RunStore
import VTP
import XCTest

/// The frozen models personalize tests learn on: a 2-step tokenizer trained through the mesh
/// (tokenizer.train) and a tiny generator on its latent grid whose EMA weights are moved off
/// their (partly zero) initialisation so its output depends on the prompt.
enum PersonalizeTestModels {

    static func train(client: MeshClient, artifacts: ArtifactStore, tokenizer: String, generator: String) async throws {
        var t = Latentmesh_V1_TokenizerTrainRequest()
        t.preset = "vtp-fmnist32-xs"; t.steps = 2; t.seed = 7; t.checkpointName = tokenizer
        _ = try await client.call("tokenizer.train", t, as: Latentmesh_V1_TokenizerTrainResult.self, timeout: .seconds(300))
        let registry = ModelRegistry(artifacts: artifacts)
        let tok = try VTPTokenizer(checkpointPath: try registry.file(try registry.record(tokenizer, field: "t"), field: "t").path)
        var c = try FlowGenPresets.resolve("flowgen-xs", grid: tok.latentShape[0], channels: tok.latentShape[2])
        c.model.textTokens = 12
        let trainer = try FlowGenTrainer(config: c)
        var rng = RNG(seed: 3)
        for s in trainer.ema.shadow { s.assign(s + rng.normal(s.shape, std: 0.2)) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gen-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: path) }
        try FlowGenCheckpoint.save(trainer, normalizer: .identity(channels: c.model.latentChannels), metadata: ["tokenizer": tokenizer], to: path.path)
        let art = try artifacts.put(fileAt: path, mediaType: "application/x-safetensors")
        try registry.register(name: generator, artifact: art, kind: GeneratorService.modelKind, service: "generator", configJSON: try c.json(),
                              parents: [tokenizer])
    }

    static func pngs(_ n: Int, size: Int = 32, offset: Int = 0) throws -> [Data] {
        let ds = try FashionMNIST(part: .test, resolution: size, rgb: true)
        return try (offset..<(offset + n)).map { Data(try PNGCodec.encode(try ds.image(at: $0))) }
    }

    static func learnRequest(_ name: String = "<my-bag>", classWord: String = "bag", method: String = "dti", generator: String,
                             offset: Int = 0) throws -> Latentmesh_V1_LearnConceptRequest {
        var r = Latentmesh_V1_LearnConceptRequest()
        r.conceptName = name; r.classWord = classWord; r.method = method; r.steps = 4; r.seed = 1
        r.generatorModel = generator; r.imagesPng = try pngs(3, offset: offset)
        return r
    }

    static func generateRequest(_ model: String, _ prompts: [String], seed: UInt64 = 5) -> Latentmesh_V1_GenerateRequest {
        var r = Latentmesh_V1_GenerateRequest()
        r.modelName = model; r.prompts = prompts; r.n = 1; r.seed = seed; r.steps = 3; r.guidance = 2
        return r
    }
}

/// Small helpers of the personalize tests.
enum PersonalizeTestSupport {
    static func norm(_ v: [Float]) -> Float { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    static func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (norm(a) * norm(b)) }

    /// Registers `token` as a concept whose embedding is `vector` (as if learned on `generator`).
    static func registerConcept(_ token: String, vector: [Float], generator: String, registry: ModelRegistry) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("concept-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: path) }
        try Safetensors.write([("embedding", Tensor(vector, shape: [1, vector.count]))], to: path.path)
        let art = try registry.artifacts.put(fileAt: path, mediaType: "application/x-safetensors")
        let mStar = Double(try PersonalizeLoader().encoder().mStar)
        let cfg = String(decoding: try JSONSerialization.data(withJSONObject: ["name": token, "method": "dti", "m_star": mStar]), as: UTF8.self)
        try registry.register(name: ModelRegistry.conceptModelName(token), artifact: art, kind: ModelRegistry.conceptKind,
                              service: "personalize", configJSON: cfg, parents: [generator])
    }
}
