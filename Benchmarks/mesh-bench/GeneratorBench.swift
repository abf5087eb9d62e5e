import ComputeCore
import FlowGen
import Glibc

/// `mesh-bench generator`: the reference DiT training step (issue 9 §8) and sampling throughput.
///
/// Reference DiT: batch 64 latents 8x8x8 (patch 1, 64 tokens), width 256, depth 6, 4 heads,
/// MLP 4x GELU, LayerNorm without affine + adaLN-Zero (6 vectors per block from c = timestep
/// MLP(256 sinusoidal) + Linear(mean of text tokens)), cross-attention (LayerNorm, q from tokens,
/// k/v from 16 text tokens of dim 384, output projection), final adaLN (shift, scale) + Linear
/// to 8 channels, velocity MSE, AdamW. This is `FlowGenDiT` with that config; the PyTorch peer
/// (`Benchmarks/torch_peer.py --dit`) builds the same network.
enum GeneratorBench {
    struct Options {
        var threads = 2; var steps = 7; var warmup = 2; var batch = 64; var sampleSteps = 28
        var serve = GeneratorServeBench.Options()
    }

    static func parse(_ args: [String]) throws -> Options {
        var o = Options(), i = 0
        func value(_ name: String) throws -> Int {
            guard i + 1 < args.count, let v = Int(args[i + 1]), v > 0 else { throw ValidationFailureBench("\(name) needs a positive integer") }
            i += 1; return v
        }
        while i < args.count {
            switch args[i] {
            case "--threads": o.threads = try value("--threads")
            case "--steps": o.steps = try value("--steps")
            case "--warmup": o.warmup = try value("--warmup")
            case "--batch": o.batch = try value("--batch")
            case "--sample-steps": o.sampleSteps = try value("--sample-steps")
            case "--serve-reps": o.serve.reps = try value("--serve-reps")
            case "--model", "--home":
                guard i + 1 < args.count else { throw ValidationFailureBench("\(args[i]) needs a value") }
                if args[i] == "--model" { o.serve.model = args[i + 1] } else { o.serve.home = args[i + 1] }
                i += 1
            default: throw ValidationFailureBench("unknown argument '\(args[i])' (expected --threads/--steps/--warmup/--batch/--sample-steps/--serve-reps/--model/--home)")
            }
            i += 1
        }
        return o
    }

    /// The reference spec as a FlowGen model config.
    static var referenceConfig: FlowGenModelConfig {
        var c = FlowGenModelConfig()
        c.grid = 8; c.latentChannels = 8; c.width = 256; c.depth = 6; c.heads = 4; c.mlpRatio = 4
        c.textDim = 384; c.textTokens = 16; c.timeFrequencyDim = 256
        return c
    }

    /// Matmul + attention FLOPs of one training step (forward x 3) at batch b.
    static func stepFLOPs(_ c: FlowGenModelConfig, batch b: Int) -> Double {
        let B = Double(b), T = Double(c.tokens), S = Double(c.textTokens), D = Double(c.width)
        let E = Double(c.textDim), C = Double(c.latentChannels), F = Double(c.timeFrequencyDim), n = B * T
        let selfAttn = 8 * n * D * D + 4 * B * T * T * D
        let mlp = 16 * n * D * D
        let cross = 4 * n * D * D + 4 * B * S * E * D + 4 * B * T * S * D
        let ada = 12 * B * D * D                                   // adaLN Linear(D, 6D) on c
        let perBlock = selfAttn + mlp + cross + ada
        let outer = 2 * n * C * D * 2 + 2 * B * (F * D + D * D) + 2 * B * E * D + 2 * B * D * 2 * D
        return 3 * (Double(c.depth) * perBlock + outer)
    }

    static func run(arguments: [String]) async throws {
        let o = try parse(arguments)
        let cfg = referenceConfig
        print("mesh-bench generator: threads=\(o.threads) batch=\(o.batch) steps=\(o.steps) (median after \(o.warmup) warm-up)")
        let peak = ComputeBench.sgemmGFLOPS(n: 1024, threads: o.threads)
        Threads.configure(o.threads)
        let model = FlowGenDiT(cfg, seed: 0)
        let params = model.parameters()
        let opt = AdamW(params, lr: 1e-4, betas: (0.9, 0.95), weightDecay: 0)
        var rng = RNG(seed: 1)
        let x0 = rng.normal([o.batch, cfg.tokens, cfg.latentChannels]), eps = rng.normal(x0.shape)
        let t = (0..<o.batch).map { _ in rng.uniform() }
        let xt = FlowSchedule.interpolate(x0, eps, t: t), target = eps - x0
        let text = TextContext(context: rng.normal([o.batch, cfg.textTokens, cfg.textDim]), padding: Tensor.ones([o.batch, cfg.textTokens]))
        let tt = Tensor(t, shape: [o.batch])
        var times: [Double] = [], gemmNow: [Double] = [], losses: [Float] = []
        for s in 0..<(o.warmup + o.steps) {
            if s >= o.warmup { gemmNow.append(ComputeBench.sgemmGFLOPS(n: 1024, threads: o.threads, reps: 2)); Threads.configure(o.threads) }
            let t0 = ComputeBench.now()
            let loss = Tensor.mseLoss(model(xt, t: tt, text: text), target)
            for p in params { p.zeroGrad() }
            loss.backward()
            opt.step()
            if s >= o.warmup { times.append(ComputeBench.now() - t0) }
            losses.append(loss.item)
        }
        let stepS = ComputeBench.median(times), flops = stepFLOPs(cfg, batch: o.batch)
        let achieved = flops / stepS / 1e9, denom = Swift.max(peak, ComputeBench.median(gemmNow))
        print("reference DiT: \(model.parameterCount) parameters, \(String(format1: flops / 1e9)) GFLOP per step")
        print("reference DiT step: \(String(format1: stepS * 1000)) ms median (min \(String(format1: times.min()! * 1000)), max \(String(format1: times.max()! * 1000))), " +
              "\(String(format1: achieved)) GFLOP/s, MFU \(String(format3: achieved / denom)) of sgemm(1024) \(String(format1: denom)) GFLOPS")
        print("loss: \(losses.first!) -> \(losses.last!)")

        // Sampling throughput: 28 Euler steps with guidance 3 on batch 64 (2 x 64 rows per forward).
        model.setFrozen(true)
        let prompts = (0..<o.batch).map { i -> TextFeatures in
            var r = RNG(seed: UInt64(i)); return TextFeatures(values: r.normal([8 * cfg.textDim]).array, length: 8, dim: cfg.textDim)
        }
        var sampleTimes: [Double] = []
        for rep in 0..<3 {
            let sampler = try FlowSampler(model: model, normalizer: .identity(channels: cfg.latentChannels),
                                          request: SampleRequest(prompts: prompts, seeds: (0..<o.batch).map { UInt64($0) },
                                                                 steps: o.sampleSteps, guidance: 3, sampler: .euler))
            let t0 = ComputeBench.now()
            sampler.run()
            if rep > 0 { sampleTimes.append(ComputeBench.now() - t0) }
        }
        let imgPerS = Double(o.batch) / ComputeBench.median(sampleTimes)
        print("sampling (reference DiT, \(o.sampleSteps) Euler steps, guidance 3, batch \(o.batch)): \(String(format1: imgPerS)) latents/s")

        // Serving: generator.generate on the trained default model, in process and over RabbitMQ.
        print("serving: generator.generate on '\(o.serve.model)' (\(o.serve.home)), \(o.serve.reps) interleaved reps per transport")
        let serve = try await GeneratorServeBench.run(o.serve)
        let overhead = serve.overhead
        print("generate (1 image, 28 Euler steps, guidance 3, decode included): in process p50 \(String(format1: serve.b1P50)) ms " +
              "(min \(String(format1: serve.b1Ms.min()!)), max \(String(format1: serve.b1Ms.max()!))); over RabbitMQ p50 " +
              "\(String(format1: serve.amqpP50)) ms -> overhead outside the handler \(String(format1: overhead)) ms " +
              "(median wall minus handler time: \(String(format1: ComputeBench.median(serve.amqpOutsideMs))) vs \(String(format1: ComputeBench.median(serve.outsideMs))) ms)")
        print("generate (8 prompts x 8 images, 28 Euler steps, guidance 3): \(String(format1: ComputeBench.median(serve.imgPerS))) images/s " +
              "(reps \(serve.imgPerS.map { String(format1: $0) }.joined(separator: ", ")))")
        let json: [(String, String)] = [
            ("dit_step_ms", String(format1: stepS * 1000)), ("dit_step_ms_min", String(format1: times.min()! * 1000)),
            ("dit_step_ms_max", String(format1: times.max()! * 1000)), ("dit_step_gflops", String(format1: achieved)),
            ("dit_step_flops", String(Int(flops))), ("dit_step_mfu", String(format3: achieved / denom)),
            ("sgemm_gflops_1024", String(format1: denom)), ("sample_latents_per_s_ref_dit", String(format1: imgPerS)),
            ("sample_img_per_s", String(format3: ComputeBench.median(serve.imgPerS))), ("generate_b1_ms", String(format1: serve.b1P50)),
            ("generate_b1_amqp_ms", String(format1: serve.amqpP50)), ("amqp_generate_overhead_ms", String(format1: overhead)),
            ("amqp_generate_wall_diff_ms", String(format1: serve.amqpP50 - serve.b1P50)),
            ("threads", String(o.threads)), ("batch", String(o.batch)),
        ]
        print("{" + json.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
    }
}
