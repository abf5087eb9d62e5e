import ComputeCore
import Distill
import DistillSvc
import FlowGen
import Foundation
import Logging
import MeshKit
import MeshProto
import MeshTesting
import RunStore
import SwiftProtobuf
import XCTest

/// distill.train through the mesh: in-process (SQLite) and over RabbitMQ (PostgreSQL, a real
/// distill-svc process). The teacher is a tiny FlowGen checkpoint registered as a generator model.
final class DistillServiceTests: XCTestCase {
    static func tempDir(_ name: String) -> URL { TestEnvironment.tempDir("distill-\(name)") }

    struct Mesh {
        let client: MeshClient
        let store: RunStore
        let artifacts: ArtifactStore
        let inProcess: Bool
    }

    /// Registers a tiny perturbed FlowGen teacher (MiniLM-width text) as generator model `name`.
    static func registerTeacher(_ name: String, artifacts: ArtifactStore) throws {
        var c = try FlowGenPresets.resolve("flowgen-xs", grid: 2, channels: 2)
        c.model.textTokens = 8
        let trainer = try FlowGenTrainer(config: c)
        var rng = RNG(seed: 5)
        for p in trainer.model.parameters() { p.assign(p + rng.normal(p.shape, std: 0.1)) }
        for (s, p) in zip(trainer.ema.shadow, trainer.model.parameters()) { s.assign(p) }
        let path = tempDir("teacher").appendingPathComponent("t.safetensors")
        try FlowGenCheckpoint.save(trainer, normalizer: LatentNormalizer(mean: [0.1, 0], std: [1, 2]), to: path.path)
        let art = try artifacts.put(fileAt: path, mediaType: "application/x-safetensors")
        try ModelRegistry(artifacts: artifacts).register(name: name, artifact: art, kind: "flowgen-generator", service: "generator",
                                                         configJSON: try c.json())
    }

    static func request(teacher: String, student: String, method: String = "scm", steps: Int64 = 3,
                        resume: Bool = false) -> Latentmesh_V1_DistillTrainRequest {
        var r = Latentmesh_V1_DistillTrainRequest()
        r.method = method; r.teacherModel = teacher; r.studentName = student; r.preset = "distill-xs"
        r.steps = steps; r.seed = 3; r.resume = resume; r.dataCount = 4
        r.prompts = ["a red dress", "a blue sneaker"]
        return r
    }


    func train(_ mesh: Mesh, _ req: Latentmesh_V1_DistillTrainRequest) async throws -> MeshClient.Answer<Latentmesh_V1_DistillTrainResult> {
        try await mesh.client.callRetryingRoute("distill.train", req, as: Latentmesh_V1_DistillTrainResult.self,
                                                retries: mesh.inProcess ? 0 : 30)
    }

    /// Train (sCM), resume, the registry record, a 2-step sample from the stored student, bad inputs.
    func roundTrip(_ mesh: Mesh, teacher: String, student: String) async throws {
        let t = try await train(mesh, Self.request(teacher: teacher, student: student))
        XCTAssertEqual(t.response.studentName, student)
        XCTAssertEqual(t.response.steps, 3)
        XCTAssertEqual(t.response.method, "scm")
        for k in ["loss", "grad_norm", "tangent_rms", "warmup_r"] { XCTAssertNotNil(t.response.finalMetrics[k], k) }
        try mesh.store.flush()
        let progress = try mesh.store.events(runID: t.reply.runID, limit: 1000).filter { $0.type == "progress" }
        XCTAssertTrue(progress.last?.payloadJSON.contains("grad_norm") ?? false)
        let rec = try XCTUnwrap(try mesh.store.model(name: student))
        XCTAssertEqual(rec.kind, DistillService.modelKind)
        XCTAssertEqual(rec.parents, [teacher])
        XCTAssertEqual(rec.sha256, t.response.checkpoint.sha256)
        // The stored student samples in 2 steps with its teacher's normaliser.
        let model = try DistillCheckpoint.load(from: try mesh.artifacts.url(sha256: rec.sha256).path)
        XCTAssertEqual(model.metadata["teacher"], teacher)
        XCTAssertEqual(model.normalizer.std, [1, 2])
        XCTAssertEqual(model.student.net.timeEmbed.inputScale, 1)
        let feats = TextFeatures(values: [Float](repeating: 0.1, count: 2 * 384), length: 2, dim: 384)
        let s = try model.sampler(prompts: [feats], seeds: [1], steps: 2)
        s.run()
        XCTAssertTrue(s.latents.array.allSatisfy(\.isFinite))

        let r = try await train(mesh, Self.request(teacher: teacher, student: student, steps: 5, resume: true))
        XCTAssertEqual(r.response.steps, 5)
        try mesh.store.flush()
        let steps = try mesh.store.events(runID: r.reply.runID, limit: 1000).filter { $0.type == "progress" }
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.payloadJSON.utf8)) as? [String: Any] }
            .compactMap { $0["step"] as? Int }
        XCTAssertTrue(!steps.isEmpty && steps.allSatisfy { $0 > 3 }, "resumed run continues after step 3: \(steps)")

        // Invalid inputs.
        let ok = Self.request(teacher: teacher, student: student)
        var bad = ok; bad.teacherModel = "no-such-teacher"
        await assertServiceError(.notFound, field: "teacher_model") { try await self.train(mesh, bad) }
        bad = ok; bad.sampleSteps = 5
        await assertServiceError(.invalidArgument, field: "sample_steps") { try await self.train(mesh, bad) }
        bad = ok; bad.timeInputScale = 10
        await assertServiceError(.invalidArgument, field: "time_input_scale") { try await self.train(mesh, bad) }
        bad = ok; bad.method = "dmd"
        await assertServiceError(.invalidArgument, field: "method") { try await self.train(mesh, bad) }
        bad = ok; bad.preset = "bogus"
        await assertServiceError(.invalidArgument, field: "preset") { try await self.train(mesh, bad) }
        bad = ok; bad.teacherModel = student      // a student is not a generator model
        bad.studentName = student + "-2"
        await assertServiceError(.invalidArgument, field: "teacher_model") { try await self.train(mesh, bad) }
    }

    func testInProcessRoundTripResumeAndInvalidInputs() async throws {
        let m = try await InProcessMesh.start(modules: [DistillModule()], worker: "distill-test")
        let artifacts = try XCTUnwrap(m.artifacts)
        let mesh = Mesh(client: m.client, store: m.store, artifacts: artifacts, inProcess: true)
        try Self.registerTeacher("teacher-xs", artifacts: artifacts)
        try await roundTrip(mesh, teacher: "teacher-xs", student: "student-xs")
        // MeanFlow at ×1000 trains too.
        var mf = Self.request(teacher: "teacher-xs", student: "student-mf", method: "meanflow", steps: 2)
        mf.timeInputScale = 1000
        let out = try await train(mesh, mf)
        XCTAssertEqual(out.response.method, "meanflow")
        let model = try DistillCheckpoint.load(from: try artifacts.url(sha256: out.response.checkpoint.sha256).path)
        XCTAssertEqual(model.config.sampleSteps, 4)
        XCTAssertEqual(model.student.net.timeEmbed.inputScale, 1000)
        await m.stop()
    }

    func testOverRabbitMQWithPostgres() async throws {
        let db = try TestEnvironment.databaseURL()
        let svc = try ServiceProcess("distill", worker: "distill-amqp-\(getpid())")
        try svc.start()
        defer { svc.stop() }
        let store = try RunStores.open(url: db)
        try store.migrate()
        let artifacts = try ArtifactStore(root: svc.artifactsDir, store: store)
        let teacher = "teacher-amqp-\(getpid())"
        try Self.registerTeacher(teacher, artifacts: artifacts)
        let transport = try AMQPTransport(url: try TestEnvironment.amqpURL(), name: "distill-tests", logger: Logger(label: "distill-tests"))
        let client = try await MeshClient(transport: transport, clientName: "distill-tests")
        try await roundTrip(Mesh(client: client, store: store, artifacts: artifacts, inProcess: false), teacher: teacher,
                            student: "student-amqp-\(getpid())")
        await client.close(); await transport.close(); store.close()
        svc.signal(SIGTERM)
        XCTAssertEqual(svc.waitExit(timeout: 30), 0, "distill-svc should exit 0 on SIGTERM; log:\n\(svc.log)")
    }
}
