import ComputeCore
import Dispatch
import Glibc

/// `mesh-bench compute`: sgemm throughput and the reference ViT training step.
///
/// Reference step: 32x32x3 images, patch 4 -> 64 tokens, linear patch embedding + learned
/// position embedding, 6 pre-norm blocks (width 192, 3 heads, GELU MLP 4x), final LayerNorm,
/// linear head back to patch pixels, MSE against the input patches, batch 64, AdamW.
/// Prints human-readable lines, then one JSON object as the last stdout line.
public enum ComputeBench {
    public struct Options {
        public var threads = 2
        public var steps = 7
        public var warmup = 2
        public var batch = 64
        public init() {}
    }

    public static func parse(_ args: [String]) throws -> Options {
        var o = Options()
        var i = 0
        func value(_ name: String) throws -> Int {
            guard i + 1 < args.count, let v = Int(args[i + 1]), v > 0 else {
                throw BenchError.badArgument("\(name) needs a positive integer")
            }
            i += 1
            return v
        }
        while i < args.count {
            switch args[i] {
            case "compute": break
            case "--threads": o.threads = try value("--threads")
            case "--steps": o.steps = try value("--steps")
            case "--warmup": o.warmup = try value("--warmup")
            case "--batch": o.batch = try value("--batch")
            default: throw BenchError.badArgument("unknown argument '\(args[i])' (expected --threads/--steps/--warmup/--batch)")
            }
            i += 1
        }
        return o
    }

    public enum BenchError: Error, CustomStringConvertible {
        case badArgument(String)
        public var description: String { switch self { case .badArgument(let m): return "mesh-bench compute: \(m)" } }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func minorFaults() -> Int {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Int(u.ru_minflt)
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }

    /// Median GFLOPS of an n x n x n sgemm on `threads` OpenBLAS threads.
    public static func sgemmGFLOPS(n: Int, threads: Int, reps: Int? = nil) -> Double {
        Threads.configure(threads)
        var rng = RNG(seed: 1)
        let a = rng.normal([n, n]), b = rng.normal([n, n]), c = Tensor(zeros: [n, n])
        let reps = reps ?? (n <= 256 ? 40 : (n <= 512 ? 12 : 5))
        var times: [Double] = []
        for r in 0..<(reps + 1) {
            let t0 = now()
            BLAS.gemm(false, false, n, n, n, 1, a.ptr, n, b.ptr, n, 0, c.ptr, n)
            if r >= 1 { times.append(now() - t0) }
        }
        return 2 * Double(n * n * n) / median(times) / 1e9
    }

    /// The reference ViT (see type doc).
    public final class ReferenceViT: Module {
        public let embed: Linear, pos: Tensor, blocks: ModuleList<ViTBlock>, norm: LayerNorm, head: Linear
        public static let patch = 4, tokens = 64, width = 192, depth = 6, heads = 3
        public init(rng: inout RNG) {
            let d = ReferenceViT.width
            embed = Linear(3 * 16, d, rng: &rng)
            pos = rng.normal([1, ReferenceViT.tokens, d], std: 0.02).requiringGrad()
            blocks = ModuleList((0..<ReferenceViT.depth).map { _ in ViTBlock(d, heads: ReferenceViT.heads, rng: &rng) })
            norm = LayerNorm(d)
            head = Linear(d, 3 * 16, rng: &rng)
        }
        /// patches [B, 64, 48] -> reconstruction [B, 64, 48]
        public func callAsFunction(_ patches: Tensor) -> Tensor {
            var h = embed(patches) + pos
            for b in blocks.items { h = b(h) }
            return head(norm(h))
        }
        public func namedParameters() -> [(String, Tensor)] {
            collectParameters([("pos", pos)], [("embed", embed), ("blocks", blocks), ("norm", norm), ("head", head)])
        }
        /// Matmul FLOPs of one training step (forward x 3) for batch `b`.
        public static func stepFLOPs(batch b: Int) -> Double {
            let n = Double(b * tokens), d = Double(width), t = Double(tokens)
            let perLayer = 24 * n * d * d + 4 * Double(b) * t * t * d
            let forward = Double(depth) * perLayer + 4 * n * 48 * d
            return 3 * forward
        }
    }

    public static func run(arguments: [String]) throws {
        let o = try parse(arguments)
        print("mesh-bench compute: threads=\(o.threads) batch=\(o.batch) steps=\(o.steps) (median after \(o.warmup) warm-up)")
        var gflops: [String: Double] = [:]
        for t in Array(Set([1, o.threads])).sorted() {
            for n in [256, 512, 1024] {
                let g = sgemmGFLOPS(n: n, threads: t)
                gflops["\(n)_\(t)t"] = g
                print("sgemm n=\(n) threads=\(t): \(String(format1: g)) GFLOPS")
            }
        }
        Threads.configure(o.threads)
        let peakGemm = gflops["1024_\(o.threads)t"]!

        var rng = RNG(seed: 0)
        let model = ReferenceViT(rng: &rng)
        let params = model.parameters()
        let opt = AdamW(params, lr: 1e-4, weightDecay: 0.05)
        let images = rng.uniform([o.batch, 3, 32, 32], -1, 1)
        let target = images.patchify(ReferenceViT.patch).copy()
        var times: [Double] = [], losses: [Float] = []
        var fwd: [Double] = [], gemmNow: [Double] = [], faults: [Int] = []
        for s in 0..<(o.warmup + o.steps) {
            // The machine may be shared: re-measure the GEMM rate next to every timed step.
            if s >= o.warmup { gemmNow.append(sgemmGFLOPS(n: 1024, threads: o.threads, reps: 2)) }
            let f0 = minorFaults()
            let t0 = now()
            let loss = Tensor.mseLoss(model(target), target)
            let t1 = now()
            for p in params { p.zeroGrad() }
            loss.backward()
            opt.step()
            let t2 = now()
            if s >= o.warmup { times.append(t2 - t0); fwd.append(t1 - t0); faults.append(minorFaults() - f0) }
            losses.append(loss.item)
        }
        let stepS = median(times)
        let flops = ReferenceViT.stepFLOPs(batch: o.batch)
        let achieved = flops / stepS / 1e9
        let interleaved = median(gemmNow)
        let denom = Swift.max(peakGemm, interleaved)
        let mfu = achieved / denom
        let peakMB = Double(ProcessMemory.peakResidentBytes) / 1_048_576
        let poolMB = Double(BufferPool.shared.peakLiveBytes) / 1_048_576
        print("reference ViT: \(model.parameterCount) parameters, \(String(format1: flops / 1e9)) GFLOP per step")
        print("reference ViT step: \(String(format1: stepS * 1000)) ms median (forward \(String(format1: median(fwd) * 1000)) ms), " +
              "\(String(format1: achieved)) GFLOP/s, MFU \(String(format3: mfu)) of sgemm(1024, \(o.threads)t) = \(String(format1: denom)) GFLOPS " +
              "(max of table \(String(format1: peakGemm)) and interleaved median \(String(format1: interleaved)))")
        print("loss: \(losses.first!) -> \(losses.last!)")
        print("peak memory: \(String(format1: peakMB)) MB resident, \(String(format1: poolMB)) MB peak live tensors, " +
              "\(faults.sorted()[faults.count / 2]) minor page faults per step (median)")
        var json: [(String, String)] = []
        for n in [256, 512, 1024] { for t in Array(Set([1, o.threads])).sorted() {
            json.append(("sgemm_gflops_\(n)_\(t)t", String(format1: gflops["\(n)_\(t)t"]!)))
        } }
        json.append(("vit_step_ms", String(format1: stepS * 1000)))
        json.append(("vit_step_gflops", String(format1: achieved)))
        json.append(("vit_step_flops", String(Int(flops))))
        json.append(("vit_step_mfu", String(format3: mfu)))
        json.append(("vit_step_mfu_vs_interleaved", String(format3: achieved / interleaved)))
        json.append(("sgemm_gflops_1024_interleaved", String(format1: interleaved)))
        json.append(("peak_mem_mb", String(format1: peakMB)))
        json.append(("threads", String(o.threads)))
        json.append(("batch", String(o.batch)))
        print("{" + json.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
    }
}

extension String {
    init(format1 v: Double) { self = String((v * 10).rounded() / 10) }
    init(format3 v: Double) { self = String((v * 1000).rounded() / 1000) }
}
