import ComputeCore
import FlowGen
import Foundation
import MeshKit
import MeshProto
import RunStore
import ServiceCatalog

/// The batching half of `mesh-bench serving`: `--requests` concurrent one-image requests (28 Euler
/// steps, guidance 3, distinct prompts and seeds) to the real generator module in process, on the
/// trained `generator-default` (scripts/run), once with batching off (`--max-batch 1`) and once
/// with it on (`--max-batch`), interleaved over `--reps` rounds in the same process.
/// - `batching_gain`: median over rounds of images/s with batching ÷ without.
/// - `p50_ms` / `p99_ms` (and `_nobatch`): per-request latency from publish to reply, all rounds.
/// - `batched_bytes_identical`: 1 if every image of the first round is byte-identical in both modes.
/// - The roofline: `sample_gflop_per_image` (matrix-product FLOPs of one image: the model's forward
///   x 2 for guidance x 28 steps, from its config), the GFLOP/s each mode sustains, their fraction
///   of the machine's sgemm(1024) rate measured in the same run, and `gain_3_needs_fraction`: the
///   fraction of that rate a batched mode would have to sustain for a gain of 3.
/// - The bound: `gemm_gflops_batch`, the fixed-order GEMM's rate on the served model's products at
///   one full batch's rows (`KernelBench.rates`), and `gain_bound_gemm_only` = that rate / the
///   GFLOP of one image / the unbatched images/s: the gain if every non-GEMM operation of the
///   batched sampler were free and the unbatched mode kept all of its costs.
enum ServingBatchBench {
    struct Result {
        var gain: Double, imgPerS: Double, imgPerSNoBatch: Double
        var p50: Double, p99: Double, p50NoBatch: Double, p99NoBatch: Double
        var identical: Bool
        /// Matrix-product GFLOP of one image; the machine's sgemm(1024) GFLOP/s.
        var gflopPerImage: Double, sgemmGFLOPS: Double
        /// Fixed-order GEMM GFLOP/s on the model's products at one full batch's rows.
        var gemmGFLOPSBatch: Double
        var gainBound: Double { gemmGFLOPSBatch / gflopPerImage / imgPerSNoBatch }
        var batchedFraction: Double { imgPerS * gflopPerImage / sgemmGFLOPS }
        var noBatchFraction: Double { imgPerSNoBatch * gflopPerImage / sgemmGFLOPS }
    }

    static func run(requests: Int, maxBatch: Int, reps: Int, model: String = "generator-default",
                    home: String = ".latentmesh") async throws -> Result {
        let (store, artifacts) = try openHome(home, model: model)
        defer { store.close() }
        let registry = ModelRegistry(artifacts: artifacts)
        let record = try registry.record(model, field: "generator")
        let config = try FlowGenCheckpoint.load(from: try registry.file(record, field: "generator").path).model.config
        // One forward of one sample (stepFLOPs counts forward + backward = 3 forwards), x 2 for
        // guidance, x 28 steps.
        let gflopPerImage = GeneratorBench.stepFLOPs(config, batch: 1) / 3 * 2 * 28 / 1e9
        let sgemm = ComputeBench.sgemmGFLOPS(n: 1024, threads: Threads.gemmWorkers)
        // Rows of one full batch's forward: images x 2 (guidance) x tokens.
        let gemmBatch = KernelBench.rates(m: maxBatch * 2 * config.tokens, shapes: KernelBench.shapes(width: config.width, textDim: config.textDim),
                                          reps: 7).fixed

        /// One in-process generator with `batch` images per batch.
        func mesh(_ batch: Int) async throws -> (MeshHost, MeshClient, InProcessTransport) {
            let t = InProcessTransport()
            let host = MeshHost(transport: t, store: store, artifacts: artifacts)
            try await host.start(modules: [try ServiceCatalog.module("generator")]) { name in
                var c = ServiceConfig(service: name, artifactsDir: artifacts.root.path, prefetch: requests, worker: "bench-b\(batch)")
                c.maxBatch = batch
                return c
            }
            return (host, try await MeshClient(transport: t, clientName: "mesh-bench"), t)
        }
        let (offHost, offClient, offT) = try await mesh(1)
        let (onHost, onClient, onT) = try await mesh(maxBatch)

        func request(_ i: Int) -> Latentmesh_V1_GenerateRequest {
            var r = Latentmesh_V1_GenerateRequest()
            r.modelName = model; r.prompts = [GeneratorBenchPrompts.eight[i % 8]]; r.n = 1
            r.steps = 28; r.guidance = 3; r.seed = UInt64(i); r.sampler = "euler"
            return r
        }
        /// All requests at once: (images/s, per-request ms, PNGs in request order).
        func round(_ client: MeshClient) async throws -> (Double, [Double], [Data]) {
            let t0 = ComputeBench.now()
            let results = try await withThrowingTaskGroup(of: (Int, Double, Data).self) { g in
                for i in 0..<requests {
                    g.addTask {
                        let s = ComputeBench.now()
                        let a = try await client.call("generator.generate", request(i), as: Latentmesh_V1_GenerateResponse.self,
                                                      timeout: .seconds(3600))
                        guard let png = a.response.imagesPng.first else { throw ValidationFailureBench("request \(i) returned no image") }
                        return (i, (ComputeBench.now() - s) * 1000, png)
                    }
                }
                var out: [(Int, Double, Data)] = []
                for try await r in g { out.append(r) }
                return out.sorted { $0.0 < $1.0 }
            }
            let wall = ComputeBench.now() - t0
            return (Double(requests) / wall, results.map(\.1), results.map(\.2))
        }

        _ = try await round(offClient)     // warm-up: model, tokenizer, MiniLM
        _ = try await round(onClient)
        var gains: [Double] = [], on: [Double] = [], off: [Double] = [], latOn: [Double] = [], latOff: [Double] = []
        var identical = true
        for r in 0..<reps {
            let (a, la, pa) = try await round(offClient)
            let (b, lb, pb) = try await round(onClient)
            if r == 0 { identical = pa == pb }
            off.append(a); on.append(b); gains.append(b / a); latOff += la; latOn += lb
            print(String(format: "  round %d: %.2f images/s without batching, %.2f with (x%.2f); p50 %.0f / %.0f ms",
                         r + 1, a, b, b / a, percentile(la, 50), percentile(lb, 50)))
        }
        await onClient.close(); await offClient.close()
        await onHost.shutdown(grace: 2); await offHost.shutdown(grace: 2)
        await onT.close(); await offT.close()
        return Result(gain: ComputeBench.median(gains), imgPerS: ComputeBench.median(on), imgPerSNoBatch: ComputeBench.median(off),
                      p50: percentile(latOn, 50), p99: percentile(latOn, 99), p50NoBatch: percentile(latOff, 50),
                      p99NoBatch: percentile(latOff, 99), identical: identical, gflopPerImage: gflopPerImage, sgemmGFLOPS: sgemm,
                      gemmGFLOPSBatch: gemmBatch)
    }

    /// Nearest-rank percentile of `v` (ms).
    static func percentile(_ v: [Double], _ p: Double) -> Double {
        guard !v.isEmpty else { return 0 }
        let s = v.sorted()
        return s[min(s.count - 1, max(0, Int((p / 100 * Double(s.count)).rounded(.up)) - 1))]
    }
}
