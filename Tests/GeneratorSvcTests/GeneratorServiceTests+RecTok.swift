import FlowGen
import Datasets
import Foundation
import GeneratorSvc
import MeshKit
import MeshProto
import RunStore
import TokenizerSvc
import XCTest

/// A generator on a RecTok tokenizer (METHODS.md §2-§3): generator.train reads the RecTok latents
/// through the same `LatentTokenizer` path as VTP's, takes RecTok's latent noise shift, and
/// generator.generate decodes with the RecTok decoder.
extension GeneratorServiceTests {
    func testTrainAndGenerateOnARecTokTokenizer() async throws {
        let mesh = try await inProcessMesh()
        var t = Latentmesh_V1_TokenizerTrainRequest()
        t.preset = "rectok-fmnistc32-xs"; t.steps = 3; t.seed = 3; t.checkpointName = "rectok-gen-tok"
        t.latentChannels = 8; t.teacher = "patch-projection"; t.trainLimit = 32
        _ = try await call(mesh, "tokenizer.train", t, as: Latentmesh_V1_TokenizerTrainResult.self)
        XCTAssertEqual(try mesh.store.model(name: "rectok-gen-tok")?.kind, TokenizerService.rectokModelKind)

        var g = Latentmesh_V1_GeneratorTrainRequest()
        g.preset = "flowgen-xs"; g.tokenizerCheckpoint = "rectok-gen-tok"; g.steps = 3; g.seed = 1
        g.modelName = "gen-on-rectok"; g.trainLimit = 16
        let trained = try await call(mesh, "generator.train", g, as: Latentmesh_V1_GeneratorTrainResult.self).response
        XCTAssertEqual(trained.steps, 3)
        XCTAssertEqual(trained.tokenizer, "rectok-gen-tok")
        let rec = try XCTUnwrap(try mesh.store.model(name: "gen-on-rectok"))
        XCTAssertEqual(rec.parents, ["rectok-gen-tok"])
        let config = try FlowGenConfig.from(json: rec.configJSON)
        XCTAssertEqual([config.model.grid, config.model.latentChannels], [8, 8], "the generator's grid is the RecTok latent [8, 8, 8]")
        XCTAssertEqual(config.model.shift, FlowSchedule.shiftFactor(tokens: 64, channels: 8), accuracy: 1e-6,
                       "RecTok's own noise shift sqrt(T·d/4096) (METHODS.md §2: one shift rule in both places)")
        XCTAssertEqual(config.train.timeSampling, .uniform, "RecTok's generator draws t uniformly before the shift (METHODS.md §2)")

        let r = try await call(mesh, "generator.generate",
                               Self.generateRequest("gen-on-rectok", prompts: ["a red dress"], n: 1, seed: 4, steps: 2),
                               as: Latentmesh_V1_GenerateResponse.self).response
        XCTAssertEqual(r.images.count, 1)
        XCTAssertEqual(r.tokenizer, "rectok-gen-tok")
        let img = try PNGCodec.decode([UInt8](r.images[0].png))
        XCTAssertEqual([img.width, img.height], [32, 32])
        XCTAssertEqual(try PNGText.dictionary([UInt8](r.images[0].png))["tokenizer"], "rectok-gen-tok")
        await mesh.close()
    }
}
