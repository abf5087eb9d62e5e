import Foundation
import Logging
import MeshKit
import MeshProto
import RunStore
import ServiceCatalog

/// The serving half of `mesh-bench generator`: `generator.generate` on a trained model
/// (default `generator-default`, what scripts/run leaves in `.latentmesh/`), served by the real
/// generator module, first over the in-process transport and then over RabbitMQ, both against
/// the same SQLite store and model registry, so the difference is the transport alone.
///
/// - `generate_b1_ms`: one image, 28 Euler steps, guidance 3, decode included, in process (p50).
/// - `sample_img_per_s`: 8 prompts x 8 images (batch 64), 28 Euler steps with guidance, in process.
/// - `amqp_generate_overhead_ms`: what the transport adds outside the handler: median over reps of
///   (client wall time − the handler's own `seconds`) over RabbitMQ minus the same in process. The
///   handler's compute (whose speed drifts by ±50 ms per 250 ms request with this VM's CPU steal)
///   is taken out of both sides instead of being differenced, which left ±10 ms of noise.
enum GeneratorServeBench {
    struct Options { var model = "generator-default"; var home = ".latentmesh"; var reps = 15; var batchReps = 2 }

    struct Result {
        var b1Ms: [Double] = [], amqpB1Ms: [Double] = [], imgPerS: [Double] = []
        /// Client wall time minus the handler's time, per rep (ms).
        var outsideMs: [Double] = [], amqpOutsideMs: [Double] = []
        var b1P50: Double { ComputeBench.median(b1Ms) }
        var amqpP50: Double { ComputeBench.median(amqpB1Ms) }
        /// Transport overhead outside the handler: RabbitMQ minus in process (medians).
        var overhead: Double { ComputeBench.median(amqpOutsideMs) - ComputeBench.median(outsideMs) }
    }

    static func run(_ o: Options) async throws -> Result {
        guard let amqp = ProcessInfo.processInfo.environment["MESH_AMQP_URL"] else {
            throw ValidationFailureBench("MESH_AMQP_URL is not set: amqp_generate_overhead_ms needs RabbitMQ (eval \"$(scripts/stack up)\")")
        }
        ServiceMain.bootstrapLogging(level: .warning)
        let (store, artifacts) = try openHome(o.home, model: o.model)
        defer { store.close() }
        let module = try ServiceCatalog.module("generator")
        let config = { (name: String) in
            ServiceConfig(service: name, artifactsDir: artifacts.root.path, prefetch: 1, worker: "bench-\(getpid())")
        }

        let local = InProcessTransport()
        let localHost = MeshHost(transport: local, store: store, artifacts: artifacts)
        try await localHost.start(modules: [module], config: config)
        let localClient = try await MeshClient(transport: local, clientName: "mesh-bench")

        let remote = try AMQPTransport(url: amqp, name: "mesh-bench-gen", logger: Logger(label: "bench"))
        let remoteHost = MeshHost(transport: remote, store: store, artifacts: artifacts)
        try await remoteHost.start(modules: [module], config: config)
        let remoteClient = try await MeshClient(transport: remote, clientName: "mesh-bench")

        func request(prompts: [String], n: Int32) -> Latentmesh_V1_GenerateRequest {
            var r = Latentmesh_V1_GenerateRequest()
            r.modelName = o.model; r.prompts = prompts; r.n = n; r.steps = 28; r.guidance = 3; r.seed = 0; r.sampler = "euler"
            return r
        }
        /// (client wall ms, wall minus the handler's own time ms).
        func timed(_ client: MeshClient, _ r: Latentmesh_V1_GenerateRequest) async throws -> (Double, Double) {
            let t0 = ComputeBench.now()
            let answer = try await client.call("generator.generate", r, as: Latentmesh_V1_GenerateResponse.self,
                                               timeout: .seconds(3600))
            let dt = ComputeBench.now() - t0
            let want = r.prompts.count * Int(max(1, r.n))
            guard answer.response.imagesPng.count == want else {
                throw ValidationFailureBench("generator.generate returned \(answer.response.imagesPng.count) images, expected \(want)")
            }
            return (dt * 1000, (dt - answer.response.seconds) * 1000)
        }

        var res = Result()
        let one = request(prompts: ["a red dress"], n: 1)
        _ = try await timed(localClient, one)          // warm-up: loads model, tokenizer, MiniLM
        _ = try await timed(remoteClient, one)
        for r in 0..<o.reps {
            // Alternate which transport goes first, so neither always follows the other.
            for remoteTurn in r % 2 == 0 ? [false, true] : [true, false] {
                let (wall, outside) = try await timed(remoteTurn ? remoteClient : localClient, one)
                if remoteTurn { res.amqpB1Ms.append(wall); res.amqpOutsideMs.append(outside) }
                else { res.b1Ms.append(wall); res.outsideMs.append(outside) }
            }
        }
        let batch = request(prompts: GeneratorBenchPrompts.eight, n: 8)
        for _ in 0..<o.batchReps {
            let (ms, _) = try await timed(localClient, batch)
            res.imgPerS.append(64 / (ms / 1000))
        }
        await localClient.close(); await remoteClient.close()
        await localHost.shutdown(grace: 2); await remoteHost.shutdown(grace: 2)
        await remote.close(); await local.close()
        return res
    }
}

/// The embedded store and artifacts under `home` (what scripts/run leaves, with `model` trained).
func openHome(_ home: String, model: String) throws -> (RunStore, ArtifactStore) {
    let url = URL(fileURLWithPath: home)
    let dbPath = url.appendingPathComponent("mesh.sqlite").path
    guard FileManager.default.fileExists(atPath: dbPath) else {
        throw ValidationFailureBench("no embedded store at \(dbPath): run scripts/run first (it trains \(model)), or pass --home")
    }
    let store = try RunStores.open(url: "sqlite:" + dbPath)
    try store.migrate()
    return (store, try ArtifactStore(root: url.appendingPathComponent("artifacts"), store: store))
}

enum GeneratorBenchPrompts {
    static let eight = ["a red dress", "a blue sneaker", "a green bag", "a yellow t-shirt",
                        "a purple coat", "an orange ankle boot", "a pink sandal", "a cyan pullover"]
}
