import Datasets
import Foundation
import MeshKit
import MeshProto
import MeshTesting
import RecTok
import RunStore
import TestKit
import TokenizerSvc
import XCTest

/// tokenizer.{train,encode,decode} of RecTok presets (METHODS.md §2) through the in-process mesh:
/// the request's experiment axes reach the resolved config, the checkpoint registers as a RecTok
/// tokenizer and serves encode/decode, teacher features come from the artifact store the second
/// time, resume continues, and every bad RecTok field is INVALID_ARGUMENT naming it.
final class RecTokServiceTests: XCTestCase {
    static func request(_ name: String, steps: Int64, latentChannels: Int64 = 8, fsd: String = "",
                        teacher: String = "patch-projection", resume: Bool = false) -> Latentmesh_V1_TokenizerTrainRequest {
        var r = Latentmesh_V1_TokenizerTrainRequest()
        r.preset = "rectok-fmnistc32-xs"; r.steps = steps; r.seed = 5; r.checkpointName = name; r.resume = resume
        r.latentChannels = latentChannels; r.fsd = fsd; r.teacher = teacher; r.trainLimit = 32
        return r
    }

    func train(_ mesh: InProcessMesh, _ req: Latentmesh_V1_TokenizerTrainRequest) async throws -> MeshClient.Answer<Latentmesh_V1_TokenizerTrainResult> {
        try await mesh.client.call("tokenizer.train", req, as: Latentmesh_V1_TokenizerTrainResult.self, timeout: .seconds(300))
    }

    /// The `resolved_config` of a run's `config` audit event.
    func resolvedConfig(_ mesh: InProcessMesh, runID: String) throws -> [String: Any] {
        let cfg = try XCTUnwrap(try runEvents(mesh.store, runID: runID, type: "config").first)
        return try XCTUnwrap(cfg["resolved_config"] as? [String: Any])
    }

    func testTrainRegistersARecTokTokenizerThatEncodesAndDecodes() async throws {
        let mesh = try await InProcessMesh.start(modules: [TokenizerModule()], worker: "rectok-test")
        let t = try await train(mesh, Self.request("rectok-d8", steps: 6))
        XCTAssertEqual(t.response.steps, 6, "steps = both phases")
        for k in ["loss", "loss_rec", "lr", "phase", "teacher_computed"] { XCTAssertNotNil(t.response.finalMetrics[k], k) }
        XCTAssertEqual(t.response.finalMetrics["phase"], 2, "the last step is in the decoder fine-tune")
        XCTAssertEqual(t.response.finalMetrics["teacher_computed"], 32, "first run: the teacher ran on every training image")
        let rec = try XCTUnwrap(try mesh.store.model(name: "rectok-d8"))
        XCTAssertEqual(rec.kind, TokenizerService.rectokModelKind)
        XCTAssertNotEqual(rec.kind, TokenizerService.modelKind)
        XCTAssertEqual(rec.service, "tokenizer")
        let resolved = try resolvedConfig(mesh, runID: t.reply.runID)
        XCTAssertEqual((resolved["model"] as? [String: Any])?["latentChannels"] as? Int, 8)
        XCTAssertEqual(resolved["fsd"] as? Bool, true)
        XCTAssertEqual((resolved["teacher"] as? [String: Any])?["kind"] as? String, "patch-projection", "the run records its teacher")
        XCTAssertEqual((resolved["train"] as? [String: Any])?["steps"] as? Int, 5)
        XCTAssertEqual((resolved["train"] as? [String: Any])?["decoderSteps"] as? Int, 1)

        var enc = Latentmesh_V1_EncodeRequest()
        enc.checkpointName = "rectok-d8"; enc.imagesPng = try TokenizerServiceTests.pngs(2)
        let e = try await mesh.client.call("tokenizer.encode", enc, as: Latentmesh_V1_EncodeResponse.self, timeout: .seconds(60))
        XCTAssertEqual(e.response.latents.map(\.shape), [[8, 8, 8], [8, 8, 8]], "[grid, grid, d] with d = latent_channels")
        XCTAssertEqual(e.response.latents[0].values.count, 512)
        var dec = Latentmesh_V1_DecodeLatentsRequest()
        dec.checkpointName = "rectok-d8"; dec.latents = e.response.latents
        let d = try await mesh.client.call("tokenizer.decode", dec, as: Latentmesh_V1_DecodeLatentsResponse.self, timeout: .seconds(60))
        XCTAssertEqual(d.response.imagesPng.count, 2)
        let img = try PNGCodec.decode([UInt8](d.response.imagesPng[0]))
        XCTAssertEqual([img.width, img.height], [32, 32])
        var badDec = dec; badDec.latents[0].shape = [8, 8, 4]   // a VTP-shaped latent
        await assertServiceError(.invalidArgument, field: "latents[0].shape") {
            try await mesh.client.call("tokenizer.decode", badDec, as: Latentmesh_V1_DecodeLatentsResponse.self)
        }
        enc.checkpointName = "no-such-rectok"
        await assertServiceError(.notFound, field: "checkpoint_name") {
            try await mesh.client.call("tokenizer.encode", enc, as: Latentmesh_V1_EncodeResponse.self)
        }

        // A second run on the same teacher, data and images loads the features from the artifact store.
        let again = try await train(mesh, Self.request("rectok-d8-again", steps: 2))
        XCTAssertEqual(again.response.finalMetrics["teacher_computed"], 0, "teacher features come from the store cache")
        let caches = try mesh.store.listModels(ModelQuery(service: "tokenizer", limit: 100)).filter { $0.name.hasPrefix("cache.rectok.") }
        XCTAssertEqual(caches.count, 1, "one cached feature file for (teacher, dataset, images)")
        await mesh.stop()
    }

    /// The default teacher: EfficientNet-Lite0 feature maps (the FD metric's network, offline).
    func testDefaultTeacherIsEfficientNetLite0() async throws {
        do { _ = try EffNetTeacher(stage: 5, resolution: 128) } catch {
            throw TestRequirement.missing("EfficientNet-Lite0", hint: "run scripts/prepare-models (\(error))")
        }
        let mesh = try await InProcessMesh.start(modules: [TokenizerModule()], worker: "rectok-effnet")
        var req = Self.request("rectok-effnet", steps: 1, teacher: "")
        req.trainLimit = 16
        let t = try await train(mesh, req)
        XCTAssertNotNil(t.response.finalMetrics["loss_sem"], "fsd on: the semantic term is trained")
        XCTAssertEqual(t.response.finalMetrics["teacher_computed"], 16)
        let resolved = try resolvedConfig(mesh, runID: t.reply.runID)
        XCTAssertEqual((resolved["teacher"] as? [String: Any])?["kind"] as? String, "efficientnet-lite0")
        let rec = try XCTUnwrap(try mesh.store.model(name: "rectok-effnet"))
        let header = try RecTokCheckpoint.header(at: try XCTUnwrap(mesh.artifacts).url(sha256: rec.sha256).path)
        XCTAssertEqual(header.teacher, "efficientnet-lite0/stage5@128", "the checkpoint names its teacher")
        await mesh.stop()
    }

    /// A VTP tokenizer's trunk as the teacher: resolved from the registry, recorded as a parent.
    func testVTPTrunkTeacherIsARegisteredVTPTokenizer() async throws {
        try TokenizerServiceTests.requireMiniLM()
        let mesh = try await InProcessMesh.start(modules: [TokenizerModule()], worker: "rectok-trunk")
        var vtp = TokenizerServiceTests.trainRequest("trunk-vtp", steps: 1)
        vtp.trainLimit = 32
        _ = try await train(mesh, vtp)
        var req = Self.request("rectok-on-trunk", steps: 1, teacher: "vtp-trunk")
        req.teacherCheckpoint = "trunk-vtp"
        let t = try await train(mesh, req)
        XCTAssertNotNil(t.response.finalMetrics["loss_sem"])
        let rec = try XCTUnwrap(try mesh.store.model(name: "rectok-on-trunk"))
        XCTAssertEqual(rec.parents, ["trunk-vtp"], "the teacher is a parent in the registry")
        let header = try RecTokCheckpoint.header(at: try XCTUnwrap(mesh.artifacts).url(sha256: rec.sha256).path)
        XCTAssertTrue(header.teacher.hasPrefix("vtp-trunk/vtp-fmnist32-xs@"), header.teacher)
        // A RecTok model is no trunk.
        req.checkpointName = "rectok-on-rectok"; req.teacherCheckpoint = "rectok-on-trunk"
        await assertServiceError(.invalidArgument, field: "teacher_checkpoint", mentioning: TokenizerService.modelKind) {
            try await self.train(mesh, req)
        }
        await mesh.stop()
    }

    func testResumeContinuesAndRefusesAnotherModel() async throws {
        let mesh = try await InProcessMesh.start(modules: [TokenizerModule()], worker: "rectok-resume")
        let first = try await train(mesh, Self.request("rectok-resume", steps: 2, fsd: "off", teacher: ""))
        XCTAssertEqual(first.response.steps, 2)
        XCTAssertNil(first.response.finalMetrics["loss_sem"], "fsd off: no semantic term")
        XCTAssertNil(first.response.finalMetrics["teacher_computed"], "fsd off: no teacher")
        let second = try await train(mesh, Self.request("rectok-resume", steps: 4, fsd: "off", teacher: "", resume: true))
        XCTAssertEqual(second.response.steps, 4)
        XCTAssertNotEqual(first.response.checkpoint.sha256, second.response.checkpoint.sha256)
        let steps = try runEvents(mesh.store, runID: second.reply.runID, type: "progress").compactMap { $0["step"] as? Int }
        XCTAssertFalse(steps.isEmpty)
        XCTAssertTrue(steps.allSatisfy { $0 > 2 }, "the resumed run only runs steps 3...4, saw \(steps)")
        // The same name with another latent width is another model: resume refuses it.
        await assertServiceError(.invalidArgument, field: "resume", mentioning: "d16") {
            try await self.train(mesh, Self.request("rectok-resume", steps: 4, latentChannels: 16, fsd: "off", teacher: "", resume: true))
        }
        await mesh.stop()
    }

    func testInvalidRecTokFieldsAreNamed() async throws {
        let mesh = try await InProcessMesh.start(modules: [TokenizerModule()], worker: "rectok-invalid")
        func expect(_ field: String, mentioning: String? = nil, _ edit: (inout Latentmesh_V1_TokenizerTrainRequest) -> Void) async {
            var r = Self.request("rectok-bad", steps: 2)
            edit(&r)
            await assertServiceError(.invalidArgument, field: field, mentioning: mentioning) { try await self.train(mesh, r) }
        }
        await expect("latent_channels", mentioning: "1...256") { $0.latentChannels = 300 }
        await expect("latent_channels", mentioning: "1...256") { $0.latentChannels = -1 }
        await expect("fsd", mentioning: "on") { $0.fsd = "maybe" }
        await expect("teacher", mentioning: "efficientnet-lite0") { $0.teacher = "inception" }
        await expect("teacher") { $0.fsd = "off" }                                  // a teacher without FSD
        await expect("teacher_checkpoint") { $0.teacher = "vtp-trunk" }             // no trunk named
        await expect("teacher_checkpoint") { $0.teacherCheckpoint = "some-vtp" }    // not a vtp-trunk teacher
        await expect("preset") { $0.preset = "rectok-nodata-xs" }
        await expect("config_overrides", mentioning: "loss.klWeight") { $0.configOverrides = ["loss.klWeight=2"] }
        await expect("config_overrides", mentioning: "loss.semanticWeight") { $0.fsd = "off"; $0.teacher = ""; $0.configOverrides = ["loss.semanticWeight=1"] }
        for field in ["latent_channels", "fsd", "teacher", "teacher_checkpoint"] {
            await expect(field, mentioning: "RecTok presets") { r in
                r.preset = "vtp-fmnist32-xs"; r.latentChannels = 0; r.fsd = ""; r.teacher = ""
                switch field {
                case "latent_channels": r.latentChannels = 8
                case "fsd": r.fsd = "off"
                case "teacher": r.teacher = "efficientnet-lite0"
                default: r.teacherCheckpoint = "some-vtp"
                }
            }
        }
        // vtp-trunk names a registered VTP tokenizer; an unknown one is NOT_FOUND.
        var trunk = Self.request("rectok-bad", steps: 2, teacher: "vtp-trunk")
        trunk.teacherCheckpoint = "no-such-vtp"
        await assertServiceError(.notFound, field: "teacher_checkpoint") { try await self.train(mesh, trunk) }
        await mesh.stop()

        // Defaults and overrides reach the resolved config.
        var r = Self.request("rectok-ok", steps: 0, latentChannels: 0, teacher: "")
        r.configOverrides = ["train.batchSize=4", "loss.klWeight=0.001"]
        let c = try XCTUnwrap(try TokenizerService.validate(r).rectok)
        XCTAssertEqual(c.model.latentChannels, 16, "latent_channels 0 = the preset's")
        XCTAssertTrue(c.fsd)
        XCTAssertEqual(c.teacher.kind, .efficientNetLite0, "the default teacher")
        XCTAssertEqual(c.train.batchSize, 4)
        XCTAssertEqual(c.loss.klWeight, 0.001)
        XCTAssertEqual(c.totalSteps, try RecTokPresets.resolve("rectok-fmnistc32-xs").totalSteps, "steps 0 = the preset's")
        r.fsd = "OFF"; r.teacher = ""; r.configOverrides = []
        XCTAssertEqual(try TokenizerService.validate(r).rectok?.fsd, false)
        XCTAssertNil(try TokenizerService.validate(Self.request("x", steps: 1)).vtp)
    }
}
