import ComputeCore
import Datasets
import Foundation
import GeneratorSvc
import MeshKit
import MeshProto
import MeshTesting
import Models
import PersonalizeSvc
import RunStore
import TokenizerSvc
import XCTest

/// personalize.{learn,blend} and concept resolution in generator.generate through the in-process
/// mesh (SQLite): tokenizer-, generator- and personalize-svc co-hosted.
final class PersonalizeServiceTests: XCTestCase {
    static func mesh() async throws -> InProcessMesh {
        try await InProcessMesh.start(modules: [TokenizerModule(), GeneratorModule(), PersonalizeModule()], worker: "dti-\(getpid())")
    }

    func learn(_ mesh: InProcessMesh, _ req: Latentmesh_V1_LearnConceptRequest) async throws -> MeshClient.Answer<Latentmesh_V1_LearnConceptResult> {
        try await mesh.client.call("personalize.learn", req, as: Latentmesh_V1_LearnConceptResult.self, timeout: .seconds(300))
    }

    func testLearnRegistersAConceptThatPromptsResolve() async throws {
        let mesh = try await Self.mesh()
        let artifacts = try XCTUnwrap(mesh.artifacts), registry = ModelRegistry(artifacts: artifacts)
        try await PersonalizeTestModels.train(client: mesh.client, artifacts: artifacts, tokenizer: "tok-p", generator: "gen-p")
        let a = try await learn(mesh, try PersonalizeTestModels.learnRequest(generator: "gen-p"))
        let (enc, mStar) = try PersonalizeLoader().encoder()
        XCTAssertEqual(a.response.conceptName, "<my-bag>")
        XCTAssertEqual(a.response.norm, mStar, accuracy: 1e-5 * mStar)
        for k in ["loss", "token_norm", "m_star", "class_cos", "positional_probe", "subject_score", "prompt_score"] {
            XCTAssertNotNil(a.response.finalMetrics[k], k)
        }
        XCTAssertGreaterThan(a.response.finalMetrics["positional_probe"] ?? -1, 0.9, "a token of norm m* keeps its position")
        XCTAssertTrue((-1...1).contains(a.response.finalMetrics["subject_score"] ?? 9))
        XCTAssertTrue((0...1).contains(a.response.finalMetrics["prompt_score"] ?? 9))
        let progress = try runEvents(mesh.store, runID: a.reply.runID, type: "progress")
        XCTAssertEqual(progress.last?["step"] as? Int, 4, "the last step always reports")
        // The subject score is measured every max(steps / 4, log_every) steps and at the last one.
        XCTAssertNotNil((progress.last?["metrics"] as? [String: Any])?["subject_score"])
        for e in progress {
            let m = try XCTUnwrap(e["metrics"] as? [String: Any], "\(e)")
            for k in ["token_norm", "positional_probe"] { XCTAssertNotNil(m[k], "\(k) in \(e)") }
        }

        // Registered: kind concept, generator as parent, vector/norm/class word/images in the record.
        let rec = try registry.record("concept.my-bag", field: "x")
        XCTAssertEqual(rec.kind, "concept")
        XCTAssertEqual(rec.parents, ["gen-p"])
        let cfg = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(rec.configJSON.utf8)) as? [String: Any])
        XCTAssertEqual(cfg["class_word"] as? String, "bag")
        XCTAssertEqual(cfg["method"] as? String, "dti")
        XCTAssertEqual((cfg["images_sha256"] as? [String])?.count, 3)
        XCTAssertEqual((cfg["vector"] as? [Double])?.count, 384)

        // The registered vector is the token's input embedding.
        let concepts = try registry.concepts(["<my-bag>"], field: "prompt")
        XCTAssertEqual(concepts.map(\.token), ["<my-bag>"])
        XCTAssertEqual(concepts[0].vector.reduce(0) { $0 + $1 * $1 }.squareRoot(), mStar, accuracy: 1e-5 * mStar)
        XCTAssertEqual(concepts[0].vector.map(Double.init), (cfg["vector"] as? [Double])!.map { Double(Float($0)) })
        let (f, n) = enc.tokenFeatures("a red <my-bag>", extraTokens: ["<my-bag>"], extra: concepts[0].vector)
        XCTAssertEqual(n, enc.tokenize("a red bag").count)
        XCTAssertNotEqual(f, enc.tokenFeatures(ids: enc.tokenize("a red bag")))

        // Invalid inputs, each naming its field.
        func call(_ r: Latentmesh_V1_LearnConceptRequest) -> () async throws -> Any { { try await self.learn(mesh, r) } }
        var r = try PersonalizeTestModels.learnRequest("<other>", generator: "gen-p"); r.imagesPng = []
        await assertServiceError(.invalidArgument, field: "images_png", call(r))
        r = try PersonalizeTestModels.learnRequest("<other>", generator: "gen-p"); r.imagesPng = try PersonalizeTestModels.pngs(2, size: 28)
        await assertServiceError(.invalidArgument, field: "images_png[0]", mentioning: "32x32", call(r))
        r = try PersonalizeTestModels.learnRequest("<other>", generator: "gen-p"); r.imagesPng = [Data("not a png".utf8)]
        await assertServiceError(.invalidArgument, field: "images_png[0]", call(r))
        await assertServiceError(.invalidArgument, field: "class_word", call(try PersonalizeTestModels.learnRequest("<other>", classWord: "zzqxv", generator: "gen-p")))
        await assertServiceError(.invalidArgument, field: "concept_name", call(try PersonalizeTestModels.learnRequest("my-bag", generator: "gen-p")))
        await assertServiceError(.invalidArgument, field: "concept_name", mentioning: "taken", call(try PersonalizeTestModels.learnRequest("<my-bag>", generator: "gen-p")))
        await assertServiceError(.invalidArgument, field: "method", call(try PersonalizeTestModels.learnRequest("<other>", method: "lora", generator: "gen-p")))
        r = try PersonalizeTestModels.learnRequest("<other>", generator: "gen-p"); r.steps = -1
        await assertServiceError(.invalidArgument, field: "steps", call(r))
        r = try PersonalizeTestModels.learnRequest("<other>", generator: "gen-p"); r.kappa = 101
        await assertServiceError(.invalidArgument, field: "kappa", call(r))
        await assertServiceError(.notFound, field: "generator_model", call(try PersonalizeTestModels.learnRequest("<other>", generator: "no-such-gen")))
        await mesh.stop()
    }

    /// generator.generate reads `<name>` from the registry: the same vector under two names gives the
    /// same pixels, another concept and the plain class word give others; an unknown concept is
    /// NOT_FOUND naming the prompt and the concept. personalize.blend registers slerp(a, b, t) with the
    /// interpolated norm; every invalid field is named.
    func testGenerateResolvesConceptsAndBlendRegistersOne() async throws {
        let mesh = try await Self.mesh()
        let artifacts = try XCTUnwrap(mesh.artifacts), registry = ModelRegistry(artifacts: artifacts)
        try await PersonalizeTestModels.train(client: mesh.client, artifacts: artifacts, tokenizer: "tok-g", generator: "gen-g")
        _ = try await learn(mesh, try PersonalizeTestModels.learnRequest("<my-bag>", generator: "gen-g"))
        _ = try await learn(mesh, try PersonalizeTestModels.learnRequest("<shoe>", classWord: "shoe", method: "ti", generator: "gen-g", offset: 10))
        let bag = try registry.concept("<my-bag>", field: "x")
        try PersonalizeTestSupport.registerConcept("<twin>", vector: bag.vector, generator: "gen-g", registry: registry)

        func pixels(_ prompts: [String]) async throws -> [[Float]] {
            let r = try await mesh.client.call("generator.generate", PersonalizeTestModels.generateRequest("gen-g", prompts),
                                               as: Latentmesh_V1_GenerateResponse.self, timeout: .seconds(300)).response
            return try r.images.map { try PNGCodec.decode([UInt8]($0.png)).pixels }
        }
        let px = try await pixels(["a red <my-bag>", "a red <twin>", "a red <shoe>", "a red bag"])
        XCTAssertEqual(px[0], px[1], "the same embedding under another name")
        XCTAssertNotEqual(px[0], px[2], "another concept")
        XCTAssertNotEqual(px[0], px[3], "the class word is not the learned token")
        await assertServiceError(.notFound, field: "prompts[1]", mentioning: "<nope>") {
            try await mesh.client.call("generator.generate", PersonalizeTestModels.generateRequest("gen-g", ["a <my-bag>", "a <my-bag> and a <nope>"]),
                                       as: Latentmesh_V1_GenerateResponse.self, timeout: .seconds(60))
        }

        // personalize.blend: slerp at t, norm interpolated (m* between DTI concepts), registered, usable in prompts.
        func blend(_ a: String, _ b: String, _ t: Float, _ name: String) async throws -> Latentmesh_V1_BlendConceptsResult {
            var r = Latentmesh_V1_BlendConceptsRequest()
            r.conceptA = a; r.conceptB = b; r.t = t; r.name = name
            return try await mesh.client.call("personalize.blend", r, as: Latentmesh_V1_BlendConceptsResult.self, timeout: .seconds(60)).response
        }
        let shoe = try registry.concept("<shoe>", field: "x")
        let mid = try await blend("<my-bag>", "<shoe>", 0.5, "<mix>")
        let nb = PersonalizeTestSupport.norm(bag.vector), ns = PersonalizeTestSupport.norm(shoe.vector)
        XCTAssertEqual(mid.conceptName, "<mix>")
        XCTAssertEqual(mid.norm, (nb + ns) / 2, accuracy: 1e-4 * nb)
        let mix = try registry.concept("<mix>", field: "x")
        XCTAssertEqual(PersonalizeTestSupport.norm(mix.vector), (nb + ns) / 2, accuracy: 1e-4 * nb)
        let cosA = PersonalizeTestSupport.cosine(mix.vector, bag.vector), cosB = PersonalizeTestSupport.cosine(mix.vector, shoe.vector)
        XCTAssertEqual(cosA, cosB, accuracy: 1e-4, "t = 0.5 lies halfway on the great circle")
        XCTAssertEqual(acos(Double(cosA)) * 2, Double(mid.angle), accuracy: 1e-3)
        XCTAssertEqual(mix.record.parents.first, "gen-g")
        _ = try await blend("<my-bag>", "<twin>", 0, "<end-a>")
        let endA = try registry.concept("<end-a>", field: "x")
        for (x, y) in zip(endA.vector, bag.vector) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        let mixPx = try await pixels(["a red <mix>"])
        XCTAssertNotEqual(mixPx[0], px[0])

        // Invalid blends name the field.
        func bad(_ a: String, _ b: String, _ t: Float, _ name: String) -> () async throws -> Any { { try await blend(a, b, t, name) } }
        await assertServiceError(.invalidArgument, field: "t", mentioning: "0.0...1.0", bad("<my-bag>", "<shoe>", 1.5, "<x>"))
        await assertServiceError(.invalidArgument, field: "t", bad("<my-bag>", "<shoe>", -0.1, "<x>"))
        await assertServiceError(.invalidArgument, field: "t", bad("<my-bag>", "<shoe>", .nan, "<x>"))
        await assertServiceError(.invalidArgument, field: "name", bad("<my-bag>", "<shoe>", 0.5, "x"))
        await assertServiceError(.invalidArgument, field: "name", mentioning: "taken", bad("<my-bag>", "<shoe>", 0.5, "<mix>"))
        await assertServiceError(.notFound, field: "concept_a", mentioning: "<nope>", bad("<nope>", "<shoe>", 0.5, "<x>"))
        await assertServiceError(.notFound, field: "concept_b", mentioning: "<nope>", bad("<my-bag>", "<nope>", 0.5, "<x>"))
        await assertServiceError(.invalidArgument, field: "concept_a", bad("my-bag", "<shoe>", 0.5, "<x>"))
        await assertServiceError(.invalidArgument, field: "concept_b", bad("<my-bag>", "<my-bag>", 0.5, "<x>"))
        try PersonalizeTestSupport.registerConcept("<elsewhere>", vector: shoe.vector, generator: "gen-other", registry: registry)
        await assertServiceError(.invalidArgument, field: "concept_b", mentioning: "gen-other", bad("<my-bag>", "<elsewhere>", 0.5, "<x>"))
        try PersonalizeTestSupport.registerConcept("<wide>", vector: shoe.vector + [0], generator: "gen-g", registry: registry)
        await assertServiceError(.invalidArgument, field: "concept_b", mentioning: "encoder", bad("<my-bag>", "<wide>", 0.5, "<x>"))
        await mesh.stop()
    }
}
