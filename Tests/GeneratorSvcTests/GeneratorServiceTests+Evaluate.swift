import Foundation
import GeneratorSvc
import MeshKit
import MeshTesting
import MeshProto
import RunStore
import XCTest

/// generator.evaluate in process on a tiny model with the quick evaluator: metrics with spreads,
/// progress, the sample grid, determinism, the cached reference and judge, and every bad field.
extension GeneratorServiceTests {
    static func evaluateRequest(_ model: String, edit: (inout Latentmesh_V1_GeneratorEvaluateRequest) -> Void = { _ in })
        -> Latentmesh_V1_GeneratorEvaluateRequest {
        var r = Latentmesh_V1_GeneratorEvaluateRequest()
        r.modelName = model; r.images = 12; r.steps = 2; r.guidance = 2; r.sampler = "euler"; r.seed = 5; r.evaluator = "quick"
        edit(&r)
        return r
    }

    func testEvaluateRoundTripOnATinyModel() async throws {
        let mesh = try await inProcessMesh()
        _ = try await trainModels(mesh, tokenizer: "tok-eval", generator: "gen-eval")
        let a = try await call(mesh, "generator.evaluate", Self.evaluateRequest("gen-eval"), as: Latentmesh_V1_GeneratorEvaluateResult.self)
        let r = a.response
        XCTAssertEqual(r.modelName, "gen-eval")
        XCTAssertEqual(r.images, 12)
        XCTAssertEqual(r.referenceImages, 120)
        XCTAssertEqual(r.referenceDataset, "fmnist-color-test")
        XCTAssertEqual(r.fdResolution, 32)
        XCTAssertEqual([r.steps, Int32(r.guidance)], [2, 2])
        let m = r.metrics
        for k in ["gfd", "gfd_std", "class_accuracy", "color_accuracy", "both_accuracy", "classifier_test_accuracy"] {
            XCTAssertNotNil(m[k], k)
        }
        XCTAssertGreaterThan(m["gfd"]!, 0)
        for k in ["class_accuracy", "color_accuracy"] {
            XCTAssertTrue((0...1).contains(m[k]!), "\(k) \(m[k]!)")
            XCTAssertLessThanOrEqual(m[k + "_low"]!, m[k]!)
            XCTAssertGreaterThanOrEqual(m[k + "_high"]!, m[k]!)
        }
        XCTAssertGreaterThan(m["classifier_test_accuracy"]!, 0.5, "the judge learned real images")
        // Anchors on as many real training images and their tokenizer reconstructions.
        for prefix in ["real_", "recon_"] {
            for k in ["gfd", "gfd_std", "class_accuracy", "class_accuracy_low", "color_accuracy"] { XCTAssertNotNil(m[prefix + k], prefix + k) }
        }
        XCTAssertGreaterThan(m["real_class_accuracy"]!, 0.5, "the judge recognises real training images")
        XCTAssertGreaterThan(m["real_color_accuracy"]!, 0.9, "hue finds the real tint")
        XCTAssertNotEqual(m["real_gfd"], m["recon_gfd"], "reconstructions are not the real images")
        XCTAssertTrue(r.summary.contains("12 generated"), r.summary)
        XCTAssertTrue(r.hasGrid)
        let events = try mesh.store.events(runID: a.reply.runID, limit: 10_000).filter { $0.type == "progress" }
        XCTAssertGreaterThanOrEqual(events.count, 3, "progress while sampling and scoring")
        // The reference statistics and the judge are registry cache entries now; a second request reuses
        // them and gives the same numbers (same prompts, seeds and batches).
        let registry = ModelRegistry(artifacts: try XCTUnwrap(mesh.host?.artifacts))
        let cached = try registry.list(service: "generator").map(\.kind)
        XCTAssertTrue(cached.contains("fd-reference") && cached.contains("garment-classifier"), "\(cached)")
        let again = try await call(mesh, "generator.evaluate", Self.evaluateRequest("gen-eval"), as: Latentmesh_V1_GeneratorEvaluateResult.self)
        XCTAssertEqual(again.response.metrics["gfd"], m["gfd"])
        XCTAssertEqual(again.response.metrics["class_accuracy"], m["class_accuracy"])
        XCTAssertEqual(again.response.metrics["recon_gfd"], m["recon_gfd"])
        await mesh.close()
    }

    func testEvaluateInvalidFieldsAreNamed() async throws {
        let mesh = try await inProcessMesh()
        let bad: [(String, Latentmesh_V1_GeneratorEvaluateRequest)] = [
            ("images", Self.evaluateRequest("m") { $0.images = 1 }), ("images", Self.evaluateRequest("m") { $0.images = 10_001 }),
            ("steps", Self.evaluateRequest("m") { $0.steps = 1001 }), ("steps", Self.evaluateRequest("m") { $0.steps = -1 }),
            ("guidance", Self.evaluateRequest("m") { $0.guidance = 21 }), ("guidance", Self.evaluateRequest("m") { $0.guidance = -0.5 }),
            ("sampler", Self.evaluateRequest("m") { $0.sampler = "rk4" }),
            ("evaluator", Self.evaluateRequest("m") { $0.evaluator = "lenient" }),
            ("model_name", Self.evaluateRequest("bad name!")),
        ]
        for (field, req) in bad {
            await assertServiceError(.invalidArgument, field: field) {
                try await self.call(mesh, "generator.evaluate", req, as: Latentmesh_V1_GeneratorEvaluateResult.self)
            }
        }
        do {
            _ = try await call(mesh, "generator.evaluate", Self.evaluateRequest("m") { $0.images = 20_000 }, as: Latentmesh_V1_GeneratorEvaluateResult.self)
        } catch let e as ServiceError { XCTAssertTrue(e.message.contains("2...10000"), "limit named: \(e)") }
        await assertServiceError(.notFound, field: "model_name") {
            try await self.call(mesh, "generator.evaluate", Self.evaluateRequest("no-such-generator"), as: Latentmesh_V1_GeneratorEvaluateResult.self)
        }
        // Defaults: 2000 images, 28 steps, guidance 3 (absent), euler, the standard evaluator.
        let p = try GeneratorService.validate(Latentmesh_V1_GeneratorEvaluateRequest())
        XCTAssertEqual([p.images, p.steps], [2000, 28])
        XCTAssertEqual(p.guidance, 3)
        XCTAssertEqual(p.evaluator, "standard")
        var zero = Latentmesh_V1_GeneratorEvaluateRequest(); zero.guidance = 0
        XCTAssertEqual(try GeneratorService.validate(zero).guidance, 0, "an explicit guidance 0 is kept")
        await mesh.close()
    }
}
