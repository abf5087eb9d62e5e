import Foundation
import Logging
import MeshKit
import MeshProto
import RunStore
import ServiceCatalog

/// `mesh-bench mesh`: request round trips through RabbitMQ and the in-process transport
/// (each request recorded in the audit), throughput with many requests outstanding, and
/// audit writes per second. Needs MESH_AMQP_URL and MESH_DATABASE_URL (scripts/stack up).
enum MeshBench {
    static func run(arguments: [String]) async throws {
        let o = try BenchOptions(arguments, defaults: ["--requests": 400, "--concurrency": 32, "--reps": 3])
        let n = o["--requests"], concurrency = o["--concurrency"], reps = o["--reps"]
        ServiceMain.bootstrapLogging(level: .warning)
        MeshMetrics.bootstrap()
        let env = ProcessInfo.processInfo.environment
        guard let amqp = env["MESH_AMQP_URL"], let db = env["MESH_DATABASE_URL"] else {
            throw ValidationFailureBench("set MESH_AMQP_URL and MESH_DATABASE_URL (eval \"$(scripts/stack up)\")")
        }
        print("mesh-bench mesh: \(n) sequential requests for latency, \(n) with \(concurrency) outstanding for throughput, \(reps) reps (median)")

        // In-process transport + SQLite.
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("mesh-bench-\(getpid())")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let sqlite = try RunStores.open(url: "sqlite:" + tmp.appendingPathComponent("bench.sqlite").path)
        try sqlite.migrate()
        let inproc = try await measure(transport: InProcessTransport(), store: sqlite, n: n, concurrency: concurrency, reps: reps)
        print(String(format: "inproc: rtt p50 %.3f ms  p99 %.3f ms  throughput %.0f req/s", inproc.p50, inproc.p99, inproc.rps))

        // RabbitMQ + PostgreSQL.
        let pg = try RunStores.open(url: db)
        try pg.migrate()
        let amqpTransport = try AMQPTransport(url: amqp, name: "mesh-bench", logger: Logger(label: "bench"))
        let amqpStats = try await measure(transport: amqpTransport, store: pg, n: n, concurrency: concurrency, reps: reps)
        print(String(format: "amqp:   rtt p50 %.3f ms  p99 %.3f ms  throughput %.0f req/s", amqpStats.p50, amqpStats.p99, amqpStats.rps))

        var writes: [Double] = []
        _ = measureAuditWrites(store: pg, count: 200) // warm-up
        for _ in 0..<reps { writes.append(measureAuditWrites(store: pg, count: 2000)) }
        let auditRate = median(writes)
        print(String(format: "audit (postgres): %.0f writes/s (begin + finish + event per run)", auditRate))
        await amqpTransport.close()
        pg.close(); sqlite.close()

        let json: [String: Double] = [
            "amqp_rtt_p50_ms": amqpStats.p50, "amqp_rtt_p99_ms": amqpStats.p99, "amqp_rps": amqpStats.rps,
            "inproc_rtt_p50_ms": inproc.p50, "inproc_rps": inproc.rps, "audit_writes_per_s": auditRate,
        ]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    struct Stats { var p50: Double; var p99: Double; var rps: Double }

    static func measure(transport: MeshTransport, store: RunStore, n: Int, concurrency: Int, reps: Int) async throws -> Stats {
        let service = "bench\(getpid())"
        let def = ServiceDefinition(name: service)
        var config = ServiceConfig(service: service, worker: "bench-\(getpid())")
        config.prefetch = max(1, concurrency)
        let host = MeshHost(transport: transport, store: store, artifacts: nil)
        try await host.start([def]) { _ in config }
        let client = try await MeshClient(transport: transport, clientName: "mesh-bench")
        func ping() async throws {
            var r = Latentmesh_V1_PingRequest(); r.payload = Data(repeating: 7, count: 64)
            _ = try await client.call("\(service).ping", r, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(30))
        }
        for _ in 0..<50 { try await ping() }   // warm-up
        var p50s: [Double] = [], p99s: [Double] = [], rates: [Double] = []
        for _ in 0..<reps {
            var lat: [Double] = []
            lat.reserveCapacity(n)
            for _ in 0..<n {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try await ping()
                lat.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            lat.sort()
            p50s.append(lat[lat.count / 2]); p99s.append(lat[min(lat.count - 1, Int(Double(lat.count) * 0.99))])
            let t0 = DispatchTime.now().uptimeNanoseconds
            try await withThrowingTaskGroup(of: Void.self) { group in
                var next = 0
                for _ in 0..<min(concurrency, n) { group.addTask { try await ping() }; next += 1 }
                while try await group.next() != nil {
                    if next < n { group.addTask { try await ping() }; next += 1 }
                }
            }
            rates.append(Double(n) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9))
        }
        await client.close()
        await host.shutdown(grace: 2)
        return Stats(p50: median(p50s), p99: median(p99s), rps: median(rates))
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted(); return s.isEmpty ? 0 : s[s.count / 2]
    }
}

struct ValidationFailureBench: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
