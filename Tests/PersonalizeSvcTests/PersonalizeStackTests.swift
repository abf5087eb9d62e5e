import Datasets
import Foundation
import Logging
import MeshKit
import MeshProto
import MeshTesting
import RunStore
import XCTest

/// personalize.learn -> generator.generate with the concept -> personalize.blend over RabbitMQ +
/// PostgreSQL: real tokenizer-svc, generator-svc and personalize-svc processes sharing one
/// artifact volume (the servers scripts/test starts; missing ones fail under it).
final class PersonalizeStackTests: XCTestCase {
    func testLearnGenerateBlendOverRabbitMQAndPostgres() async throws {
        let amqp = try TestEnvironment.amqpURL(), db = try TestEnvironment.databaseURL()
        let shared = TestEnvironment.tempDir("personalize-stack").appendingPathComponent("artifacts")
        let tag = "\(getpid())-\(UUID().uuidString.prefix(6).lowercased())"
        let procs = try ["tokenizer", "generator", "personalize"].map {
            try ServiceProcess($0, worker: "dti-stack-\($0)-\(tag)", artifacts: shared)
        }
        for p in procs { try p.start() }
        let store = try RunStores.open(url: db)
        try store.migrate()
        let artifacts = try ArtifactStore(root: shared, store: store)
        let transport = try AMQPTransport(url: amqp, name: "dti-stack-tests", logger: Logger(label: "dti-stack-tests"))
        let client = try await MeshClient(transport: transport, clientName: "dti-stack-tests")
        let registry = ModelRegistry(artifacts: artifacts)
        let tok = "tok-stack-\(tag)", gen = "gen-stack-\(tag)"
        let a = "<bag-\(tag)>", b = "<shoe-\(tag)>", mix = "<mix-\(tag)>"

        try await PersonalizeTestModels.train(client: client, artifacts: artifacts, tokenizer: tok, generator: gen)
        let learned = try await client.call("personalize.learn", try PersonalizeTestModels.learnRequest(a, generator: gen),
                                            as: Latentmesh_V1_LearnConceptResult.self, timeout: .seconds(300))
        XCTAssertEqual(learned.response.conceptName, a)
        let run = try XCTUnwrap(try store.run(id: learned.reply.runID))
        XCTAssertEqual(run.status, .succeeded)
        XCTAssertEqual(try store.model(name: ModelRegistry.conceptModelName(a))?.parents, [gen])
        XCTAssertFalse(try runEvents(store, runID: learned.reply.runID, type: "progress").isEmpty)
        _ = try await client.call("personalize.learn", try PersonalizeTestModels.learnRequest(b, classWord: "shoe", method: "ti", generator: gen, offset: 10),
                                  as: Latentmesh_V1_LearnConceptResult.self, timeout: .seconds(300))

        // generator-svc (another process) resolves the concept from PostgreSQL + the shared volume.
        let r = try await client.call("generator.generate", PersonalizeTestModels.generateRequest(gen, ["a red \(a)", "a red bag"]),
                                      as: Latentmesh_V1_GenerateResponse.self, timeout: .seconds(300)).response
        XCTAssertEqual(r.images.count, 2)
        XCTAssertNotEqual(try PNGCodec.decode([UInt8](r.images[0].png)).pixels, try PNGCodec.decode([UInt8](r.images[1].png)).pixels)
        await assertServiceError(.notFound, field: "prompts[0]", mentioning: "<nope-\(tag)>") {
            try await client.call("generator.generate", PersonalizeTestModels.generateRequest(gen, ["a <nope-\(tag)>"]),
                                  as: Latentmesh_V1_GenerateResponse.self, timeout: .seconds(60))
        }

        var req = Latentmesh_V1_BlendConceptsRequest()
        req.conceptA = a; req.conceptB = b; req.t = 0.25; req.name = mix
        let blended = try await client.call("personalize.blend", req, as: Latentmesh_V1_BlendConceptsResult.self, timeout: .seconds(60)).response
        XCTAssertEqual(blended.conceptName, mix)
        let va = try registry.concept(a, field: "x").vector, vb = try registry.concept(b, field: "x").vector
        let vm = try registry.concept(mix, field: "x").vector
        XCTAssertEqual(PersonalizeTestSupport.norm(vm), 0.75 * PersonalizeTestSupport.norm(va) + 0.25 * PersonalizeTestSupport.norm(vb), accuracy: 1e-3)
        let angle = acos(Double(PersonalizeTestSupport.cosine(va, vb)))
        XCTAssertEqual(acos(Double(PersonalizeTestSupport.cosine(vm, va))), 0.25 * angle, accuracy: 1e-3)
        req.t = 2
        await assertServiceError(.invalidArgument, field: "t") {
            try await client.call("personalize.blend", req, as: Latentmesh_V1_BlendConceptsResult.self, timeout: .seconds(60))
        }

        await client.close(); await transport.close()
        for p in procs { p.stop(); XCTAssertEqual(p.process.terminationStatus, 0, "\(p.service)-svc: \(p.log.suffix(2000))") }
        store.close()
    }
}
