import DecodeSvc
import Foundation
import Logging
import MeshKit
import MeshProto
import ReFusion
import RunStore

/// Throughput of decode-svc replicas competing on one RabbitMQ queue: `rounds` alternating
/// measurements with 1 and 2 replicas (replica A stays up; replica B is started before and
/// stopped after each 2-replica measurement). Every measurement checks that each running
/// replica served requests, and every replica must report single-threaded compute
/// (`MESH_BLAS_THREADS=1`: gemm workers 1, elementwise 1, OpenBLAS 1) on startup.
struct DecodeReplicaBench {
    struct Figures {
        /// median 2-replica req/s over median 1-replica req/s.
        var ratio: Double
        /// 2-replica over 1-replica req/s of each round.
        var roundRatios: [Double]
        /// Projected req/s for 1, 2, 4, 8, 16 replicas (one core each), see `model`.
        var projection: [Int: Double]
        var model: String
    }

    let amqp: String
    let database: String
    let artifacts: URL
    /// The held-out task whose prompts the requests carry, in turn.
    let task: SequenceExample.Task
    let prompts: [String]
    /// The task's response budget (tokens incl. [EOS]).
    let maxTokens: Int
    let plan: DecodeExperiment.Plan
    let requests: Int
    let concurrency: Int
    let rounds: Int
    let log: URL

    func request(_ k: Int) -> Latentmesh_V1_DecodeRunRequest {
        var r = Latentmesh_V1_DecodeRunRequest()
        r.prompt = prompts[k % prompts.count]; r.mode = "refusion"
        r.maxTokens = Int32(maxTokens)
        r.slotSize = Int32(plan.parameters.slotSize); r.blockSize = Int32(plan.parameters.blockSize)
        r.slotThreshold = plan.parameters.slotThreshold; r.tokenThreshold = plan.parameters.tokenThreshold
        return r
    }

    /// Registers the bench models (`models/decode/<objective>/model.safetensors` under `artifacts`)
    /// under their objective's default name in the run store the replicas read, as decode.train would.
    func registerModels() throws {
        let store = try RunStores.open(url: database)
        try store.migrate()
        let registry = ModelRegistry(artifacts: try ArtifactStore(root: artifacts, store: store))
        for mode in [DecodeMode.ar, .mdm, .refusion] {
            let file = artifacts.appendingPathComponent("models/decode/\(mode.rawValue)/model.safetensors")
            let artifact = try registry.artifacts.put(fileAt: file, mediaType: "application/x-safetensors")
            try registry.register(name: mode.rawValue, artifact: artifact, kind: DecodeService.modelKind(mode), service: "decode",
                                  configJSON: "{\"source\": \"mesh-bench decode\", \"plan\": \"\(plan.name)\"}")
        }
    }

    func run() async throws -> Figures {
        try registerModels()
        let transport = try AMQPTransport(url: amqp, name: "mesh-bench decode", logger: Logger(label: "bench"))
        let client = try await MeshClient(transport: transport, clientName: "mesh-bench-decode")
        var procs: [String: Process] = [:]
        defer { for p in procs.values where p.isRunning { p.terminate() } }
        let tag = "bench-decode-\(getpid())"

        func call(_ k: Int) async throws -> (worker: String, seconds: Double) {
            let r = try await client.call("decode.run", request(k), as: Latentmesh_V1_DecodeRunResponse.self, timeout: .seconds(300))
            return (r.reply.worker, r.response.seconds)
        }
        /// Requests per second at `concurrency` outstanding requests; the set of workers that answered.
        func measure(expect: Set<String>) async throws -> Double {
            for k in 0..<(2 * expect.count) { _ = try await call(k) }   // warm-up: models loaded
            let t0 = Date()
            var workers = Set<String>()
            try await withThrowingTaskGroup(of: String.self) { group in
                var next = 0
                for _ in 0..<min(concurrency, requests) {
                    let k = next; next += 1
                    group.addTask { try await call(k).worker }
                }
                while let w = try await group.next() {
                    workers.insert(w)
                    if next < requests {
                        let k = next; next += 1
                        group.addTask { try await call(k).worker }
                    }
                }
            }
            let rps = Double(requests) / Date().timeIntervalSince(t0)
            guard workers == expect else {
                throw ValidationFailureBench("replicas \(expect.sorted()) should all serve, but answers came from \(workers.sorted())")
            }
            print(String(format: "replicas %d: %.2f req/s (workers: %@)", expect.count, rps, workers.sorted().joined(separator: ", ")))
            return rps
        }
        func start(_ name: String) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
                .deletingLastPathComponent().appendingPathComponent("decode-svc")
            var env = ProcessInfo.processInfo.environment
            env["MESH_WORKER"] = name
            env["MESH_PREFETCH"] = "1"
            env["MESH_BLAS_THREADS"] = "1"
            env["MESH_ARTIFACTS_DIR"] = artifacts.path
            env["MESH_LOG_LEVEL"] = "info"
            p.environment = env
            let logFile = log.appendingPathComponent("\(name).log")
            FileManager.default.createFile(atPath: logFile.path, contents: nil)
            let fh = try FileHandle(forWritingTo: logFile)
            p.standardOutput = fh; p.standardError = fh
            try p.run()
            procs[name] = p
            let until = Date().addingTimeInterval(60)
            while Date() < until {
                let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                if text.contains("serving latentmesh.decode") {
                    guard text.contains("decode-svc compute threads: gemm workers 1, elementwise 1, openblas 1") else {
                        throw ValidationFailureBench("replica \(name) is not single-threaded; log:\n\(text)")
                    }
                    return
                }
                guard p.isRunning else { break }
                usleep(50_000)
            }
            throw ValidationFailureBench("decode-svc replica \(name) did not start; log:\n" + ((try? String(contentsOf: logFile, encoding: .utf8)) ?? ""))
        }
        func stop(_ name: String) {
            guard let p = procs.removeValue(forKey: name) else { return }
            p.terminate(); p.waitUntilExit()
        }

        let a = "\(tag)-a", b = "\(tag)-b"
        try start(a)
        // per-request service time and round trip, one replica, one request at a time
        var service: [Double] = [], trip: [Double] = []
        for k in 0..<12 {
            let t0 = Date()
            let r = try await call(k)
            if k >= 2 { service.append(r.seconds); trip.append(Date().timeIntervalSince(t0)) }
        }
        var one: [Double] = [], two: [Double] = []
        for _ in 0..<rounds {
            one.append(try await measure(expect: [a]))
            try start(b)
            two.append(try await measure(expect: [a, b]))
            stop(b)
        }
        stop(a)
        await client.close()
        await transport.close()

        let s = DecodeBench.median(service), x1 = DecodeBench.median(one)
        let overhead = max(1 / x1 - s, 1e-6)        // per-request time a replica's queue slot costs beyond decoding
        var projection: [Int: Double] = [:]
        for n in [1, 2, 4, 8, 16] { projection[n] = min(Double(n) / (s + overhead), 1 / overhead) }
        let model = String(format: "X(n) = min(n / (s + o), 1 / o): n replicas on n free cores; s = %.4f s median decode time per request "
                           + "(service-reported, \(task.rawValue) prompts), o = 1/X1 - s = %.4f s per-request overhead (broker, protobuf, run record) taken as fully "
                           + "serial (pessimistic); X1 = %.2f req/s measured with one replica; round trip at concurrency 1 = %.4f s",
                           s, overhead, x1, DecodeBench.median(trip))
        print("replicas projection: " + model)
        return Figures(ratio: DecodeBench.median(two) / x1, roundRatios: zip(two, one).map { $0 / $1 },
                       projection: projection, model: model)
    }
}
