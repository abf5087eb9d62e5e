import Datasets
import DistillSvc
import Foundation
import GeneratorSvc
import Logging
import MeshKit
import MeshProto
import MeshTesting
import RunStore
import SwiftProtobuf
import TokenizerSvc
import XCTest

/// A distilled student served by `generator.generate` like any model: a tiny tokenizer, a tiny
/// FlowGen teacher trained on its latents and an sCM and a MeanFlow student of it, all through the
/// mesh; then generate with the students (tags, progress, determinism across batches, the student's
/// default steps) and every refusal. In process (SQLite) and over RabbitMQ + PostgreSQL with real
/// tokenizer-svc, generator-svc and distill-svc processes sharing one artifact volume.
final class StudentServingTests: XCTestCase {
    struct Names {
        let tokenizer: String, teacher: String, scm: String, meanflow: String
        init(_ suffix: String) {
            tokenizer = "tok-\(suffix)"; teacher = "gen-\(suffix)"; scm = "gen-\(suffix)-scm"; meanflow = "gen-\(suffix)-mf"
        }
    }

    func call<Req: MeshRequest, Resp: SwiftProtobuf.Message>(_ client: MeshClient, _ key: String, _ req: Req,
                                                            as: Resp.Type) async throws -> MeshClient.Answer<Resp> {
        try await client.callRetryingRoute(key, req, as: Resp.self)
    }

    /// Tokenizer, teacher, and both students (distill-xs, a few steps each).
    func trainModels(_ client: MeshClient, _ n: Names) async throws {
        var t = Latentmesh_V1_TokenizerTrainRequest()
        t.preset = "vtp-fmnistc32-xs"; t.steps = 2; t.seed = 3; t.checkpointName = n.tokenizer
        _ = try await call(client, "tokenizer.train", t, as: Latentmesh_V1_TokenizerTrainResult.self)
        var g = Latentmesh_V1_GeneratorTrainRequest()
        g.preset = "flowgen-xs"; g.tokenizerCheckpoint = n.tokenizer; g.steps = 3; g.seed = 1; g.modelName = n.teacher
        g.trainLimit = 16
        _ = try await call(client, "generator.train", g, as: Latentmesh_V1_GeneratorTrainResult.self)
        for (method, name) in [("scm", n.scm), ("meanflow", n.meanflow)] {
            var d = Latentmesh_V1_DistillTrainRequest()
            d.method = method; d.teacherModel = n.teacher; d.studentName = name; d.preset = "distill-xs"
            d.steps = 2; d.seed = 3; d.dataCount = 4; d.prompts = ["a red dress", "a blue sneaker"]
            _ = try await call(client, "distill.train", d, as: Latentmesh_V1_DistillTrainResult.self)
        }
    }

    static func request(_ model: String, prompts: [String], n: Int32, seed: UInt64, steps: Int32) -> Latentmesh_V1_GenerateRequest {
        var r = Latentmesh_V1_GenerateRequest()
        r.modelName = model; r.prompts = prompts; r.n = n; r.seed = seed; r.steps = steps; r.guidance = 7
        return r
    }

    func serve(_ client: MeshClient, store: RunStore, _ n: Names) async throws {
        try await trainModels(client, n)
        let rec = try XCTUnwrap(try store.model(name: n.scm))
        XCTAssertEqual(rec.service, "distill")
        XCTAssertEqual(rec.kind, ServedModel.studentKind)

        // sCM student, 2 steps, 2 prompts x 2 samples.
        let a = try await call(client, "generator.generate",
                               Self.request(n.scm, prompts: ["a red dress", "a blue sneaker"], n: 2, seed: 10, steps: 2),
                               as: Latentmesh_V1_GenerateResponse.self)
        let r = a.response
        XCTAssertEqual(r.images.count, 4)
        XCTAssertEqual(r.images.map(\.seed), [10, 11, 10, 11])
        XCTAssertEqual(r.steps, 2)
        XCTAssertEqual(r.sampler, "scm")
        XCTAssertEqual(r.guidance, 3, "the guidance distilled in, not the request's 7")
        XCTAssertEqual(r.tokenizer, n.tokenizer)
        let tags = try PNGText.dictionary([UInt8](r.images[3].png))
        XCTAssertEqual(tags["prompt"], "a blue sneaker")
        XCTAssertEqual(tags["seed"], "11")
        XCTAssertEqual(tags["steps"], "2")
        XCTAssertEqual(tags["sampler"], "scm")
        XCTAssertEqual(tags["guidance"], "3.0")
        XCTAssertTrue(tags["guidance_mode"]?.hasPrefix("distilled") ?? false, "\(tags)")
        XCTAssertEqual(tags["model"], n.scm)
        XCTAssertEqual(tags["teacher"], n.teacher)
        XCTAssertEqual(tags["tokenizer"], n.tokenizer)
        XCTAssertNotNil(tags["commit"])
        let img = try PNGCodec.decode([UInt8](r.images[0].png))
        XCTAssertEqual([img.width, img.height], [32, 32])
        XCTAssertEqual(r.images[0].artifact.sha256.count, 64)
        let progress = try runEvents(store, runID: a.reply.runID, type: "progress")
        XCTAssertEqual(progress.compactMap { $0["step"] as? Int }, [1, 2], "one progress event per student step")

        // Same prompt and seed alone: the same bytes; distinct seeds differ.
        let alone = try await call(client, "generator.generate",
                                   Self.request(n.scm, prompts: ["a blue sneaker"], n: 1, seed: 11, steps: 2),
                                   as: Latentmesh_V1_GenerateResponse.self).response
        XCTAssertEqual(alone.images[0].png, r.images[3].png)
        XCTAssertNotEqual(r.images[2].png, r.images[3].png)

        // steps 0 = the student's own (sCM: 2); MeanFlow serves 4 by default.
        let dflt = try await call(client, "generator.generate", Self.request(n.scm, prompts: ["a red dress"], n: 1, seed: 10, steps: 0),
                                  as: Latentmesh_V1_GenerateResponse.self).response
        XCTAssertEqual(dflt.steps, 2)
        XCTAssertEqual(dflt.images[0].png, r.images[0].png)
        let mf = try await call(client, "generator.generate", Self.request(n.meanflow, prompts: ["a red dress"], n: 1, seed: 0, steps: 0),
                                as: Latentmesh_V1_GenerateResponse.self).response
        XCTAssertEqual(mf.steps, 4)
        XCTAssertEqual(mf.sampler, "meanflow")
        let mf1 = try await call(client, "generator.generate", Self.request(n.meanflow, prompts: ["a red dress"], n: 1, seed: 0, steps: 1),
                                 as: Latentmesh_V1_GenerateResponse.self).response
        XCTAssertEqual(try PNGText.dictionary([UInt8](mf1.images[0].png))["steps"], "1")

        // Refusals: steps outside 1...4 (named, with the limit), a generator sampler, not a generation model.
        for steps: Int32 in [5, 28] {
            await assertServiceError(.invalidArgument, field: "steps", mentioning: "1...4") {
                try await self.call(client, "generator.generate", Self.request(n.scm, prompts: ["a red dress"], n: 1, seed: 0, steps: steps),
                                    as: Latentmesh_V1_GenerateResponse.self)
            }
        }
        var heun = Self.request(n.scm, prompts: ["a red dress"], n: 1, seed: 0, steps: 2)
        heun.sampler = "heun"
        await assertServiceError(.invalidArgument, field: "sampler", mentioning: "scm") {
            try await self.call(client, "generator.generate", heun, as: Latentmesh_V1_GenerateResponse.self)
        }
        await assertServiceError(.invalidArgument, field: "model_name", mentioning: "tokenizer") {
            try await self.call(client, "generator.generate", Self.request(n.tokenizer, prompts: ["a red dress"], n: 1, seed: 0, steps: 2),
                                as: Latentmesh_V1_GenerateResponse.self)
        }
        await assertServiceError(.notFound, field: "model_name") {
            try await self.call(client, "generator.generate", Self.request("no-such-student", prompts: ["a red dress"], n: 1, seed: 0, steps: 2),
                                as: Latentmesh_V1_GenerateResponse.self)
        }
        // distill.evaluate: the student at 1 and 2 steps and the teacher, same prompts and seeds, quick evaluator.
        var ev = Latentmesh_V1_DistillEvaluateRequest()
        ev.studentName = n.scm; ev.steps = [1, 2]; ev.images = 4; ev.includeTeacher = true; ev.teacherSteps = 3; ev.evaluator = "quick"
        let e = try await call(client, "distill.evaluate", ev, as: Latentmesh_V1_DistillEvaluateResult.self).response
        XCTAssertEqual(e.rows.map(\.label), ["teacher3", "student1", "student2"])
        XCTAssertEqual(e.rows.map(\.sampler), ["euler", "scm", "scm"])
        XCTAssertEqual(e.rows.map(\.guidance), [3, 3, 3])
        XCTAssertEqual([e.teacherModel, e.method, String(e.images)], [n.teacher, "scm", "4"])
        for row in e.rows {
            for k in ["gfd", "gfd_std", "class_accuracy", "class_accuracy_low", "color_accuracy", "ms_per_image", "images_per_s"] {
                XCTAssertNotNil(row.metrics[k], "\(row.label).\(k)")
                XCTAssertEqual(e.metrics["\(row.label).\(k)"], row.metrics[k])
            }
            XCTAssertTrue((row.metrics["gfd"] ?? -1) >= 0)
        }
        func evalRequest(_ edit: (inout Latentmesh_V1_DistillEvaluateRequest) -> Void) -> Latentmesh_V1_DistillEvaluateRequest {
            var r = ev; edit(&r); return r
        }
        for (field, req) in [("steps[1]", evalRequest { $0.steps = [2, 5] }), ("images", evalRequest { $0.images = 1 }),
                             ("teacher_steps", evalRequest { $0.teacherSteps = 1001 }), ("evaluator", evalRequest { $0.evaluator = "huge" }),
                             ("student_name", evalRequest { $0.studentName = n.teacher })] {
            await assertServiceError(.invalidArgument, field: field) {
                try await self.call(client, "distill.evaluate", req, as: Latentmesh_V1_DistillEvaluateResult.self)
            }
        }
        await assertServiceError(.notFound, field: "student_name") {
            try await self.call(client, "distill.evaluate", evalRequest { $0.studentName = "no-such-student" },
                                as: Latentmesh_V1_DistillEvaluateResult.self)
        }

        // The teacher still serves its own 28-step default with guidance.
        let teacher = try await call(client, "generator.generate", Self.request(n.teacher, prompts: ["a red dress"], n: 1, seed: 0, steps: 0),
                                     as: Latentmesh_V1_GenerateResponse.self).response
        XCTAssertEqual([teacher.steps, Int32(teacher.guidance)], [28, 7])
        XCTAssertEqual(teacher.sampler, "euler")
    }

    func testServedInProcess() async throws {
        let m = try await InProcessMesh.start(modules: [TokenizerModule(), GeneratorModule(), DistillModule()], worker: "serve-test")
        try await serve(m.client, store: m.store, Names("inproc"))
        await m.stop()
    }

    func testServedOverRabbitMQWithPostgres() async throws {
        let db = try TestEnvironment.databaseURL()
        let volume = TestEnvironment.tempDir("serve-amqp").appendingPathComponent("artifacts")
        let procs = try ["tokenizer", "generator", "distill"].map {
            try ServiceProcess($0, worker: "serve-amqp-\($0)-\(getpid())", artifacts: volume)
        }
        for p in procs { try p.start() }
        defer { for p in procs { p.stop() } }
        let store = try RunStores.open(url: db)
        try store.migrate()
        let transport = try AMQPTransport(url: try TestEnvironment.amqpURL(), name: "serve-tests", logger: Logger(label: "serve-tests"))
        let client = try await MeshClient(transport: transport, clientName: "serve-tests")
        try await serve(client, store: store, Names("amqp-\(getpid())"))
        await client.close(); await transport.close(); store.close()
        for p in procs {
            p.signal(SIGTERM)
            XCTAssertEqual(p.waitExit(timeout: 30), 0, "\(p.service)-svc should exit 0 on SIGTERM; log:\n\(p.log)")
        }
    }
}
