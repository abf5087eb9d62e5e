import ComputeCore
import Foundation
import Logging
import MeshKit
import MeshProto
import ReFusion
import RunStore

/// `mesh-bench decode`: tokens/s and tokens per forward of the AR, masked-diffusion and
/// ReFusion decoders on the held-out arithmetic task (one stream, in process), then the
/// throughput of 2 decode-svc processes over 1 on one RabbitMQ queue (competing consumers).
///
/// Options: --models DIR (trained ar/mdm/refusion models; default: train bench models now),
/// --problems N (held-out problems, default 100), --requests N (per replica measurement,
/// default 48), --concurrency C (outstanding requests, default 8), --plan quick|standard
/// (which experiment plan's model size and schedules to train bench models with; default standard).
enum DecodeBench {
    static func run(arguments: [String]) async throws {
        var modelsDir: String?
        var problems = 100, requests = 48, concurrency = 8
        var planName = "standard"
        var i = 0
        while i < arguments.count {
            func value() throws -> String {
                guard i + 1 < arguments.count else { throw ValidationFailureBench("\(arguments[i]) needs a value") }
                i += 1
                return arguments[i]
            }
            switch arguments[i] {
            case "--models": modelsDir = try value()
            case "--problems": problems = Int(try value()) ?? problems
            case "--requests": requests = Int(try value()) ?? requests
            case "--concurrency": concurrency = Int(try value()) ?? concurrency
            case "--plan": planName = try value()
            default:
                throw ValidationFailureBench("unknown option \(arguments[i]); use --models DIR --problems N --requests N --concurrency C --plan quick|standard")
            }
            i += 1
        }
        guard (1...2000).contains(problems), (2...10_000).contains(requests), (1...256).contains(concurrency) else {
            throw ValidationFailureBench("--problems must be 1...2000, --requests 2...10000, --concurrency 1...256")
        }
        ServiceMain.bootstrapLogging(level: .warning)
        Threads.configure(1)

        // Models: given, or trained now with the bench plan (small preset, short schedules).
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("mesh-bench-decode-\(getpid())")
        let artifacts = tmp.appendingPathComponent("artifacts")
        let models = artifacts.appendingPathComponent("models/decode")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        guard var plan = DecodeExperiment.Plan.named(planName) else {
            throw ValidationFailureBench("--plan must be one of \(DecodeExperiment.Plan.names.joined(separator: ", "))")
        }
        plan.arithmeticTestCount = problems
        let data = try DecodeExperiment.standardData(plan: plan)
        var loaded: [String: TransformerLM] = [:]
        if let modelsDir {
            for name in ["ar", "mdm", "refusion"] {
                let src = URL(fileURLWithPath: modelsDir).appendingPathComponent("\(name)/model.safetensors")
                loaded[name] = try TransformerLM.load(from: src.path)
            }
            print("decode bench: models from \(modelsDir)")
        } else {
            print("decode bench: training bench models (\(plan.modelPreset), AR \(plan.arSteps / 2), MDM \(plan.mdmSteps / 2), ReFusion \(plan.refusionSteps / 2) steps)")
            let exp = DecodeExperiment(plan: plan, data: data)
            let ar = try exp.train(.ar, steps: plan.arSteps / 2)
            loaded["ar"] = ar.model
            loaded["mdm"] = try exp.train(.mdm, steps: plan.mdmSteps / 2).model
            loaded["refusion"] = try exp.train(.refusion, steps: plan.refusionSteps / 2, initial: ar.model).model
        }
        for (name, m) in loaded {
            let dir = models.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try m.save(to: dir.appendingPathComponent("model.safetensors").path, extra: ["objective": name])
        }

        // Decoders in process on the held-out task.
        let maxTokens = data.responseBudget(.arithmetic)
        var figures: [String: Double] = [:]
        for (key, mode) in [("ar", DecodeMode.ar), ("mdm", .mdm), ("refusion", .refusion)] {
            let d = DecoderUnderTest(name: key, mode: mode, model: loaded[key]!, parameters: plan.parameters)
            _ = DecodeEvaluation.arithmetic(d, examples: Array(data.arithmeticTest.prefix(5)), maxTokens: maxTokens) // warm-up
            let r = DecodeEvaluation.arithmetic(d, examples: data.arithmeticTest, maxTokens: maxTokens)
            print(String(format: "%-9@ exact match %5.1f %%  %8.0f tok/s  %5.2f tok/forward  (%d problems, %d tokens, %d forwards)",
                         key, 100 * r.exactMatch, r.tokensPerSecond, r.tokensPerForward, r.examples, r.generatedTokens, r.forwards))
            figures["\(key)_tok_per_s"] = r.tokensPerSecond
            figures["\(key)_tok_per_forward"] = r.tokensPerForward
            figures["\(key)_exact_match"] = r.exactMatch
        }

        // Replicas through RabbitMQ.
        let env = ProcessInfo.processInfo.environment
        var ratio: Double?
        if let amqp = env["MESH_AMQP_URL"], !amqp.isEmpty, let db = env["MESH_DATABASE_URL"], !db.isEmpty {
            ratio = try await replicaRatio(amqp: amqp, artifacts: artifacts, data: data, plan: plan, requests: requests,
                                           concurrency: concurrency, log: tmp)
        } else {
            print("replicas: skipped (set MESH_AMQP_URL and MESH_DATABASE_URL: eval \"$(scripts/stack up)\")")
        }
        var json: [String: Any] = [
            "ar_tok_per_s": figures["ar_tok_per_s"]!, "mdm_tok_per_s": figures["mdm_tok_per_s"]!,
            "refusion_tok_per_s": figures["refusion_tok_per_s"]!,
            "refusion_tok_per_forward": figures["refusion_tok_per_forward"]!,
            "ar_tok_per_forward": figures["ar_tok_per_forward"]!, "mdm_tok_per_forward": figures["mdm_tok_per_forward"]!,
            "ar_exact_match": figures["ar_exact_match"]!, "mdm_exact_match": figures["mdm_exact_match"]!,
            "refusion_exact_match": figures["refusion_exact_match"]!,
        ]
        json["replicas2_over_1"] = ratio.map { $0 as Any } ?? NSNull()
        let out = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: out, as: UTF8.self))
    }

    /// Requests per second with 1 and then 2 decode-svc processes on the same queue.
    static func replicaRatio(amqp: String, artifacts: URL, data: DecodeDataset, plan: DecodeExperiment.Plan,
                             requests: Int, concurrency: Int, log: URL) async throws -> Double {
        let transport = try AMQPTransport(url: amqp, name: "mesh-bench decode", logger: Logger(label: "bench"))
        let client = try await MeshClient(transport: transport, clientName: "mesh-bench-decode")
        var procs: [Process] = []
        defer { for p in procs where p.isRunning { p.terminate() } }
        let prompts = data.arithmeticTest.map(\.promptText)
        func request(_ k: Int) -> Latentmesh_V1_DecodeRunRequest {
            var r = Latentmesh_V1_DecodeRunRequest()
            r.prompt = prompts[k % prompts.count]; r.mode = "refusion"
            r.maxTokens = Int32(data.responseBudget(.arithmetic))
            r.slotSize = Int32(plan.parameters.slotSize); r.blockSize = Int32(plan.parameters.blockSize)
            r.slotThreshold = plan.parameters.slotThreshold; r.tokenThreshold = plan.parameters.tokenThreshold
            return r
        }
        func measure() async throws -> (rps: Double, workers: Set<String>) {
            // warm-up: every replica loads its model
            for k in 0..<4 { _ = try await client.call("decode.run", request(k), as: Latentmesh_V1_DecodeRunResponse.self, timeout: .seconds(120)) }
            let t0 = Date()
            var workers = Set<String>()
            try await withThrowingTaskGroup(of: String.self) { group in
                var next = 0
                for _ in 0..<min(concurrency, requests) {
                    let k = next; next += 1
                    group.addTask { try await client.call("decode.run", request(k), as: Latentmesh_V1_DecodeRunResponse.self, timeout: .seconds(300)).reply.worker }
                }
                while let w = try await group.next() {
                    workers.insert(w)
                    if next < requests {
                        let k = next; next += 1
                        group.addTask { try await client.call("decode.run", request(k), as: Latentmesh_V1_DecodeRunResponse.self, timeout: .seconds(300)).reply.worker }
                    }
                }
            }
            return (Double(requests) / Date().timeIntervalSince(t0), workers)
        }
        func startReplica(_ n: Int) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
                .deletingLastPathComponent().appendingPathComponent("decode-svc")
            var env = ProcessInfo.processInfo.environment
            env["MESH_WORKER"] = "bench-decode-\(getpid())-\(n)"
            env["MESH_PREFETCH"] = "1"
            env["MESH_BLAS_THREADS"] = "1"
            env["MESH_ARTIFACTS_DIR"] = artifacts.path
            env["MESH_LOG_LEVEL"] = "info"
            p.environment = env
            let logFile = log.appendingPathComponent("decode-svc-\(n).log")
            FileManager.default.createFile(atPath: logFile.path, contents: nil)
            let fh = try FileHandle(forWritingTo: logFile)
            p.standardOutput = fh; p.standardError = fh
            try p.run()
            procs.append(p)
            // ready once it consumes the queue (the runtime logs "serving latentmesh.decode")
            let until = Date().addingTimeInterval(60)
            while Date() < until {
                let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                if text.contains("serving latentmesh.decode") { return }
                guard p.isRunning else { break }
                usleep(50_000)
            }
            throw ValidationFailureBench("decode-svc replica \(n) did not start; log:\n" + ((try? String(contentsOf: logFile, encoding: .utf8)) ?? ""))
        }
        try startReplica(1)
        let one = try await measure()
        print(String(format: "replicas 1: %.2f req/s (workers: %@)", one.rps, one.workers.sorted().joined(separator: ", ")))
        try startReplica(2)
        let two = try await measure()
        print(String(format: "replicas 2: %.2f req/s (workers: %@)", two.rps, two.workers.sorted().joined(separator: ", ")))
        for p in procs { p.terminate() }
        for p in procs { p.waitUntilExit() }
        await client.close()
        await transport.close()
        return two.rps / one.rps
    }
}
