import MeshTesting
import TestKit
import XCTest
import ComputeCore
import MeshKit
import MeshProto
import ReFusion
import RunStore
import DecodeSvc

/// decode-svc end to end in one process: MeshHost over the in-process transport, SQLite
/// audit, artifact store; requests go through MeshClient exactly as meshctl sends them.
final class DecodeServiceTests: XCTestCase {
    var mesh: InProcessMesh!
    var store: RunStore { mesh.store }
    var client: MeshClient { mesh.client }
    var artifacts: ArtifactStore { mesh.artifacts! }

    override func setUp() async throws {
        mesh = try await InProcessMesh.start(modules: [DecodeModule()], worker: "decode-tests")
    }

    override func tearDown() async throws {
        await mesh?.stop()
    }

    func runRequest(_ prompt: String, mode: String, model: String = "", maxTokens: Int32 = 12) -> Latentmesh_V1_DecodeRunRequest {
        var r = Latentmesh_V1_DecodeRunRequest()
        r.prompt = prompt; r.mode = mode; r.modelName = model; r.maxTokens = maxTokens
        return r
    }

    func expectInvalid(_ r: Latentmesh_V1_DecodeRunRequest, field: String, file: StaticString = #filePath, line: UInt = #line) async {
        await assertServiceError(.invalidArgument, field: field, mentioning: field, {
            try await self.client.call("decode.run", r, as: Latentmesh_V1_DecodeRunResponse.self)
        }, file: file, line: line)
    }

    func testInvalidParametersNameTheField() async throws {
        await expectInvalid(runRequest("", mode: "ar"), field: "prompt")
        await expectInvalid(runRequest(String(repeating: "1", count: 300), mode: "ar"), field: "prompt")
        await expectInvalid(runRequest("1+2=", mode: "beam"), field: "mode")
        await expectInvalid(runRequest("1+2=", mode: "ar", maxTokens: 513), field: "max_tokens")
        await expectInvalid(runRequest("1+2=", mode: "ar", maxTokens: -1), field: "max_tokens")
        var r = runRequest("1+2=", mode: "refusion")
        r.slotSize = 40
        await expectInvalid(r, field: "slot_size")
        r = runRequest("1+2=", mode: "refusion"); r.slotSize = 4; r.blockSize = 10
        await expectInvalid(r, field: "block_size")
        r = runRequest("1+2=", mode: "refusion"); r.slotThreshold = 1.5
        await expectInvalid(r, field: "slot_threshold")
        r = runRequest("1+2=", mode: "mdm"); r.tokenThreshold = -0.5
        await expectInvalid(r, field: "token_threshold")
        await expectInvalid(runRequest("1+2=", mode: "ar", model: "../etc"), field: "model_name")
        r = runRequest("1+2=", mode: "refusion"); r.refusionVariant = "draftKeeping"
        await expectInvalid(r, field: "refusion_variant")
        r = runRequest("1+2=", mode: "ar"); r.refusionVariant = "draft-keeping"
        await expectInvalid(r, field: "refusion_variant")
        r = runRequest("1+2=", mode: ""); r.refusionVariant = "draft-keeping-refill"
        XCTAssertEqual(try DecodeService.validate(r).variant, .draftKeepingRefill, "the default mode is refusion")
        XCTAssertEqual(try DecodeService.validate(runRequest("1+2=", mode: "refusion")).variant, .faithful)
        var t = Latentmesh_V1_DecodeTrainRequest()
        t.objective = "gpt"
        do {
            _ = try await client.call("decode.train", t, as: Latentmesh_V1_DecodeTrainResult.self)
            XCTFail("expected INVALID_ARGUMENT")
        } catch let e as ServiceError {
            XCTAssertEqual(e.code, .invalidArgument); XCTAssertEqual(e.field, "objective")
        }
        t.objective = "ar"; t.steps = 1_000_000
        do {
            _ = try await client.call("decode.train", t, as: Latentmesh_V1_DecodeTrainResult.self)
            XCTFail("expected INVALID_ARGUMENT")
        } catch let e as ServiceError {
            XCTAssertEqual(e.field, "steps"); XCTAssertTrue(e.message.contains("200000"), e.message)
        }
    }

    func testMissingModelIsNotFound() async throws {
        do {
            _ = try await client.call("decode.run", runRequest("1+2=", mode: "ar", model: "nobody"),
                                      as: Latentmesh_V1_DecodeRunResponse.self)
            XCTFail("expected NOT_FOUND")
        } catch let e as ServiceError {
            XCTAssertEqual(e.code, .notFound); XCTAssertEqual(e.field, "model_name")
        }
    }

    func testTrainThenDecodeRoundTrip() async throws {
        try TestRequirement.require(FileManager.default.fileExists(atPath: FortuneCorpus.defaultDirectory + "/fortunes"),
                                    "fortunes-min", hint: "scripts/bootstrap installs it")
        // refusion training needs the AR model first
        var t = Latentmesh_V1_DecodeTrainRequest()
        t.preset = "tiny"; t.objective = "refusion"; t.steps = 2
        do {
            _ = try await client.call("decode.train", t, as: Latentmesh_V1_DecodeTrainResult.self)
            XCTFail("expected NOT_FOUND")
        } catch let e as ServiceError { XCTAssertEqual(e.code, .notFound) }

        for objective in ["ar", "mdm", "refusion"] {
            t.objective = objective; t.steps = 12; t.modelName = ""
            let a = try await client.call("decode.train", t, as: Latentmesh_V1_DecodeTrainResult.self, timeout: .seconds(300))
            XCTAssertEqual(a.response.modelName, objective)
            XCTAssertEqual(a.response.finalMetrics["steps"], 12)
            XCTAssertEqual(a.response.checkpoint.sha256.count, 64)
            XCTAssertGreaterThan(a.response.checkpoint.size, 1000)
            let run = try XCTUnwrap(try store.run(id: a.reply.runID))
            XCTAssertEqual(run.status, .succeeded)
            let events = try store.events(runID: a.reply.runID, limit: 100)
            XCTAssertTrue(events.contains { $0.type == "progress" }, "training reports progress")
            XCTAssertNotNil(try store.artifact(sha256: a.response.checkpoint.sha256), "checkpoint recorded in the audit")
        }
        for mode in ["ar", "mdm", "refusion"] {
            var r = runRequest("12+34=", mode: mode, maxTokens: 10)
            r.slotSize = 2; r.blockSize = 4
            let a = try await client.call("decode.run", r, as: Latentmesh_V1_DecodeRunResponse.self)
            XCTAssertEqual(a.response.promptTokens, 7)
            XCTAssertLessThanOrEqual(a.response.generatedTokens, 10)
            XCTAssertEqual(a.response.text.count, Int(a.response.generatedTokens))
            XCTAssertGreaterThan(a.response.forwards, 0)
            XCTAssertGreaterThanOrEqual(a.response.seconds, 0)
        }
        // the service answers exactly what the library decoder produces for that model
        let registered = try XCTUnwrap(try store.model(name: "refusion"))
        XCTAssertEqual(registered.kind, "decode-refusion")
        XCTAssertEqual(registered.parents, ["ar"], "ReFusion starts from the AR model")
        let model = try TransformerLM.load(from: try artifacts.url(sha256: registered.sha256).path)
        var d = ReFusionDecoder(model: model, parameters: DecodeParameters(maxTokens: 10, slotSize: 2, blockSize: 4,
                                                                          slotThreshold: 0.5, tokenThreshold: 0.7))
        let local = d.decode(prompt: [CharVocabulary.bos] + CharVocabulary().encode("12+34="))
        var r = runRequest("12+34=", mode: "refusion", maxTokens: 10)
        r.slotSize = 2; r.blockSize = 4
        let remote = try await client.call("decode.run", r, as: Latentmesh_V1_DecodeRunResponse.self)
        XCTAssertEqual(remote.response.text, CharVocabulary().decode(local.tokens))
        XCTAssertEqual(Int(remote.response.forwards), local.forwards)
        XCTAssertEqual(remote.response.unverifiedCommits, 0, "the faithful default verifies every token")
        XCTAssertEqual(Int(remote.response.belowThresholdCommits), local.belowThresholdCommits)
        // the draft-keeping variant by name: the reply carries its counters
        var dk = ReFusionDecoder(model: model, parameters: d.parameters, variant: .draftKeeping)
        let localKept = dk.decode(prompt: [CharVocabulary.bos] + CharVocabulary().encode("12+34="))
        r.refusionVariant = "draft-keeping"
        let kept = try await client.call("decode.run", r, as: Latentmesh_V1_DecodeRunResponse.self)
        XCTAssertEqual(kept.response.text, CharVocabulary().decode(localKept.tokens))
        XCTAssertEqual(Int(kept.response.unverifiedCommits), localKept.unverifiedCommits)
        XCTAssertGreaterThan(kept.response.unverifiedCommits, 0, "at least the first slot's first token is taken on plan confidence")
        XCTAssertEqual(Int(kept.response.belowThresholdCommits), localKept.belowThresholdCommits)
        // a causal model cannot run the MDM decoder
        do {
            _ = try await client.call("decode.run", runRequest("1+2=", mode: "mdm", model: "ar"), as: Latentmesh_V1_DecodeRunResponse.self)
            XCTFail("expected INVALID_ARGUMENT")
        } catch let e as ServiceError { XCTAssertEqual(e.field, "mode") }
    }
}
