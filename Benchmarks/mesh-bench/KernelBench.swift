import ComputeCore
import Foundation

/// `mesh-bench kernels`: the fixed-order GEMM that batch-invariant sampling runs on
/// (`FixedOrderGEMM` through `Linear` inside `withBatchInvariance`, weights packed once as a
/// sampler does) against OpenBLAS sgemm (the same `Linear` outside it) on flowgen-s's matrix
/// products (width 128: qkv, attention out, MLP up/down, cross-attention q/kv/out), at M = 128
/// rows (one 64-token image with its guidance twin) and M = 2048 (a serving batch of 16).
/// Rate = all shapes' FLOPs / the sum of their median times; median of `--reps` after a warm-up.
enum KernelBench {
    /// (k, n) of the products x[M, k] · W[n, k]ᵀ of a FlowGen DiT block of width `d` with text
    /// features of `e`: qkv, attention out, MLP up, MLP down, cross-attention q, kv, out.
    static func shapes(width d: Int, textDim e: Int) -> [(k: Int, n: Int)] {
        [(d, 3 * d), (d, d), (d, 4 * d), (4 * d, d), (d, d), (e, 2 * d), (d, d)]
    }
    /// flowgen-s (width 128, MiniLM's 384-d text).
    static let shapes = shapes(width: 128, textDim: 384)

    /// GFLOP/s of the fixed-order GEMM (weights packed once, as a sampler does) and of OpenBLAS sgemm
    /// on `shapes` at `m` rows: all shapes' FLOPs / the sum of their median times over `reps` (after a
    /// warm-up), the two interleaved over 3 rounds so both see the same machine; median of the rounds.
    static func rates(m: Int, shapes: [(k: Int, n: Int)], reps: Int) -> (fixed: Double, sgemm: Double) {
        var rng = RNG(seed: 3)
        let layers = shapes.map { Linear($0.k, $0.n, rng: &rng) }
        let inputs = shapes.map { rng.normal([m, $0.k]) }
        let flops = shapes.reduce(0.0) { $0 + 2 * Double(m * $1.k * $1.n) }
        let cache = PackedWeightCache()
        func time(_ fixed: Bool) -> Double {
            var total = 0.0
            for (layer, x) in zip(layers, inputs) {
                var ts: [Double] = []
                for r in 0...reps {
                    let t0 = ComputeBench.now()
                    if fixed { _ = withNoGrad { withBatchInvariance { withPackedWeights(cache) { layer(x) } } } }
                    else { _ = withNoGrad { layer(x) } }
                    if r > 0 { ts.append(ComputeBench.now() - t0) }
                }
                total += ComputeBench.median(ts)
            }
            return total
        }
        var fixedS: [Double] = [], blasS: [Double] = []
        for _ in 0..<3 { fixedS.append(time(true)); blasS.append(time(false)) }
        return (flops / ComputeBench.median(fixedS) / 1e9, flops / ComputeBench.median(blasS) / 1e9)
    }

    static func run(arguments: [String]) throws {
        var threads = 2, reps = 15
        var i = 0
        while i < arguments.count {
            guard i + 1 < arguments.count, let v = Int(arguments[i + 1]), v > 0 else {
                throw ValidationFailureBench("\(arguments[i]) needs a positive integer (options: --threads N --reps N)")
            }
            switch arguments[i] {
            case "--threads": threads = v
            case "--reps": reps = v
            default: throw ValidationFailureBench("unknown argument '\(arguments[i])' (expected --threads/--reps)")
            }
            i += 2
        }
        Threads.configure(threads)
        print("mesh-bench kernels: threads=\(threads) reps=\(reps) (median after a warm-up); flowgen-s products \(shapes.map { "\($0.k)x\($0.n)" }.joined(separator: ", "))")
        var json: [(String, String)] = [("threads", String(threads))]
        for m in [128, 2048] {
            let (fixed, blas) = rates(m: m, shapes: shapes, reps: reps)
            print("M = \(m): fixed-order \(String(format1: fixed)) GFLOP/s, sgemm \(String(format1: blas)) GFLOP/s (\(String(format3: fixed / blas))x)")
            json += [("fixed_gflops_m\(m)", String(format1: fixed)), ("sgemm_gflops_m\(m)", String(format1: blas)),
                     ("fixed_over_sgemm_m\(m)", String(format3: fixed / blas))]
        }
        print("{" + json.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
    }
}
