import Foundation
import Logging
import MeshKit
import MeshProto
import RunStore

/// `mesh-bench serving`: how long an urgent request waits behind a queue of normal ones over
/// RabbitMQ + PostgreSQL (one worker, prefetch 1, each request `--work-ms` of simulated work).
/// `priority_wait_ms` = urgent reply time − its own work; `normal_wait_ms` = the same for a
/// normal request published at the same point (the baseline it overtakes);
/// `priority_position_*` = how many queued requests started before the urgent one (audit). Median of `--reps`
/// rounds with min/max. Then batching inside generator-svc (`ServingBatchBench`: `batching_gain`,
/// `p50_ms`/`p99_ms` with and without batching; needs the trained generator-default, `--batch-requests 0`
/// skips it). Needs MESH_AMQP_URL and MESH_DATABASE_URL.
enum ServingBench {
    static func run(arguments: [String]) async throws {
        let o = try BenchOptions(arguments, defaults: ["--queued": 20, "--work-ms": 100, "--reps": 5,
                                                            "--batch-requests": 32, "--max-batch": 16, "--batch-reps": 3])
        let queued = o["--queued"], workMs = Int32(o["--work-ms"]), reps = o["--reps"]
        ServiceMain.bootstrapLogging(level: .warning)
        let env = ProcessInfo.processInfo.environment
        guard let amqp = env["MESH_AMQP_URL"], let db = env["MESH_DATABASE_URL"] else {
            throw ValidationFailureBench("set MESH_AMQP_URL and MESH_DATABASE_URL (eval \"$(scripts/stack up)\")")
        }
        print("mesh-bench serving: \(queued) queued requests of \(workMs) ms, one worker (prefetch 1), \(reps) reps")
        let store = try RunStores.open(url: db)
        try store.migrate()
        let service = "servebench\(getpid())"
        let transport = try AMQPTransport(url: amqp, name: service, logger: Logger(label: "bench"))
        let host = MeshHost(transport: transport, store: store, artifacts: nil)
        try await host.start([ServiceDefinition(name: service)]) { _ in
            ServiceConfig(service: service, prefetch: 1, worker: "\(service)-w")
        }
        let client = try await MeshClient(transport: transport, clientName: "mesh-bench")
        /// Wait in ms (reply time minus the work) and the run id.
        func ping(_ priority: Int32) async throws -> (Double, String) {
            var r = Latentmesh_V1_PingRequest()
            r.workMs = workMs
            r.meta.priority = priority
            let t0 = Date()
            let a = try await client.call("\(service).ping", r, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(600))
            return (Date().timeIntervalSince(t0) * 1000 - Double(workMs), a.reply.runID)
        }
        /// How many of `others` started before `run` (from the audit).
        func startedBefore(_ run: String, _ others: [String]) throws -> Int {
            guard let t = try store.run(id: run)?.startedAt else { return -1 }
            return try others.filter { (try store.run(id: $0)?.startedAt ?? .distantFuture) < t }.count
        }
        for _ in 0..<3 { _ = try await ping(0) }   // warm-up
        var urgent: [Double] = [], normal: [Double] = [], positions: [Double] = []
        for _ in 0..<reps {
            for priority in [Int32(7), 0] {
                let backlog = (0..<queued).map { _ in Task { try await ping(0) } }
                let queue = MeshTopology.workQueue(service: service)
                let until = Date().addingTimeInterval(30)
                while try await transport.messageCount(queue: queue) < queued - 2, Date() < until {
                    try await Task.sleep(nanoseconds: 10_000_000)
                }
                let (wait, run) = try await ping(priority)
                var others: [String] = []
                for t in backlog { others.append(try await t.value.1) }
                let position = try startedBefore(run, others)
                if priority > 0 { urgent.append(wait); positions.append(Double(position)) } else { normal.append(wait) }
                print(String(format: "  %@ wait %.0f ms, started after %d of %d queued", priority > 0 ? "urgent" : "normal",
                             wait, position, queued))
            }
        }
        await client.close()
        await host.shutdown()
        for q in MeshTopology.serviceQueues(service: service, routingKeys: []) { try? await transport.deleteQueue(q.queue) }
        await transport.close()
        store.close()
        func stat(_ v: [Double]) -> (Double, Double, Double) { (QueueEstimate.median(v) ?? 0, v.min() ?? 0, v.max() ?? 0) }
        let (u, uMin, uMax) = stat(urgent), (n, nMin, nMax) = stat(normal)
        print(String(format: "urgent wait: median %.0f ms (min %.0f, max %.0f); normal wait behind the same queue: median %.0f ms (min %.0f, max %.0f)",
                     u, uMin, uMax, n, nMin, nMax))
        var json: [String: Double] = [
            "priority_wait_ms": u, "priority_wait_min_ms": uMin, "priority_wait_max_ms": uMax,
            "normal_wait_ms": n, "normal_wait_min_ms": nMin, "normal_wait_max_ms": nMax,
            "priority_position_median": QueueEstimate.median(positions) ?? -1, "priority_position_max": positions.max() ?? -1,
            "queued": Double(queued), "work_ms": Double(workMs), "reps": Double(reps),
        ]
        if o["--batch-requests"] > 0 {
            print("batching: \(o["--batch-requests"]) concurrent one-image 28-step requests, in process, max batch \(o["--max-batch"]) vs 1, \(o["--batch-reps"]) rounds")
            let b = try await ServingBatchBench.run(requests: o["--batch-requests"], maxBatch: o["--max-batch"], reps: o["--batch-reps"])
            print(String(format: "batching: %.2f images/s vs %.2f without (gain x%.2f); p50 %.0f ms (p99 %.0f) vs %.0f ms (p99 %.0f); bytes identical: %@",
                         b.imgPerS, b.imgPerSNoBatch, b.gain, b.p50, b.p99, b.p50NoBatch, b.p99NoBatch, b.identical ? "yes" : "NO"))
            json["batching_gain"] = b.gain; json["img_per_s"] = b.imgPerS; json["img_per_s_nobatch"] = b.imgPerSNoBatch
            json["p50_ms"] = b.p50; json["p99_ms"] = b.p99; json["p50_ms_nobatch"] = b.p50NoBatch; json["p99_ms_nobatch"] = b.p99NoBatch
            json["batched_bytes_identical"] = b.identical ? 1 : 0; json["max_batch"] = Double(o["--max-batch"])
            json["batch_requests"] = Double(o["--batch-requests"])
            json["sample_gflop_per_image"] = b.gflopPerImage; json["sgemm_gflops_1024"] = b.sgemmGFLOPS
            json["gflops_batched"] = b.imgPerS * b.gflopPerImage; json["gflops_nobatch"] = b.imgPerSNoBatch * b.gflopPerImage
            json["batched_fraction_of_sgemm"] = b.batchedFraction; json["nobatch_fraction_of_sgemm"] = b.noBatchFraction
            json["gain_3_needs_fraction"] = 3 * b.noBatchFraction
            print(String(format: "roofline: %.2f GFLOP of matrix products per image; without batching %.0f GFLOP/s = %.0f %% of this machine's sgemm(1024) %.0f GFLOP/s, with batching %.0f GFLOP/s = %.0f %%; a gain of 3 would need %.0f %% sustained over the whole sampler",
                         b.gflopPerImage, b.imgPerSNoBatch * b.gflopPerImage, 100 * b.noBatchFraction, b.sgemmGFLOPS,
                         b.imgPerS * b.gflopPerImage, 100 * b.batchedFraction, 300 * b.noBatchFraction))
            json["gemm_gflops_batch"] = b.gemmGFLOPSBatch; json["gain_bound_gemm_only"] = b.gainBound
            print(String(format: "bound: the fixed-order GEMM runs the model's products at %.1f GFLOP/s at one full batch's rows, so even with every non-GEMM operation free in the batched sampler (and none in the unbatched one) the gain is at most %.2f",
                         b.gemmGFLOPSBatch, b.gainBound))
        }
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
