import ComputeCore
import XCTest
@testable import FlowGen

final class FlowGenTrainingTests: XCTestCase {
    /// The loss falls and a tiny model memorises four (prompt, latent) pairs: sampling each prompt
    /// lands nearest its own latent.
    func testLossFallsAndTinyModelOverfitsFewPairs() throws {
        let cfg = try FlowGenTestSupport.tinyConfig(steps: 400, dropout: 0.1, batch: 4)
        let data = try FlowGenTestSupport.pairs(4, config: cfg)
        let trainer = try FlowGenTrainer(config: cfg)
        var losses: [Float] = []
        for s in trainer.steps(data) { losses.append(s.mse) }
        XCTAssertEqual(losses.count, 400)
        let first = losses.prefix(40).reduce(0, +) / 40, last = losses.suffix(40).reduce(0, +) / 40
        XCTAssertLessThan(last, first * 0.6, "mse first \(first) last \(last)")
        let sampler = try FlowSampler(model: trainer.emaModel(), normalizer: .identity(channels: 2),
                                      request: SampleRequest(prompts: data.texts, seeds: [1, 2, 3, 4], steps: 20, guidance: 2, sampler: .heun))
        sampler.run()
        let out = sampler.latents, per = 4 * 2
        let lat = data.latents.array, got = out.array
        for i in 0..<4 {
            let dists = (0..<4).map { j in zip(got[(i * per)..<((i + 1) * per)], lat[(j * per)..<((j + 1) * per)]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }
            XCTAssertEqual(dists.firstIndex(of: dists.min()!), i, "prompt \(i) distances \(dists)")
            let others = dists.enumerated().filter { $0.offset != i }.map(\.element).min()!
            XCTAssertLessThan(dists[i], 0.3 * others, "prompt \(i) distances \(dists)")
        }
    }

    /// Training 6 steps straight equals 3 steps, a checkpoint, a fresh trainer restored from it, 3 more.
    func testResumeEqualsUninterruptedRun() throws {
        let cfg = try FlowGenTestSupport.tinyConfig(steps: 6)
        let data = try FlowGenTestSupport.pairs(8, config: cfg)
        let straight = try FlowGenTrainer(config: cfg)
        let s1 = Array(straight.steps(data))
        let first = try FlowGenTrainer(config: cfg)
        for _ in 0..<3 { _ = try first.step(data) }
        let path = FlowGenTestSupport.tempPath("resume.safetensors")
        let norm = LatentNormalizer(mean: [0.5, -1], std: [2, 0.25])
        try FlowGenCheckpoint.save(first, normalizer: norm, metadata: ["tokenizer": "tok-a"], to: path)
        let resumed = try FlowGenTrainer(config: cfg)
        XCTAssertEqual(try FlowGenCheckpoint.restore(resumed, from: path), norm)
        XCTAssertEqual(resumed.stepIndex, 3)
        let s2 = Array(resumed.steps(data))
        XCTAssertEqual(s2.map(\.loss), Array(s1.suffix(3)).map(\.loss))
        for ((n, a), (_, b)) in zip(straight.model.namedParameters(), resumed.model.namedParameters()) {
            XCTAssertEqual(a.array, b.array, n)
        }
        for (a, b) in zip(straight.ema.shadow, resumed.ema.shadow) { XCTAssertEqual(a.array, b.array) }
        // The inference load uses the EMA weights and keeps the metadata and normaliser.
        try FlowGenCheckpoint.save(resumed, normalizer: norm, metadata: ["tokenizer": "tok-a"], to: path)
        let loaded = try FlowGenCheckpoint.load(from: path)
        XCTAssertEqual(loaded.metadata["tokenizer"], "tok-a")
        XCTAssertEqual(loaded.step, 6)
        XCTAssertEqual(loaded.normalizer, norm)
        XCTAssertEqual(loaded.model.out.weight.array, resumed.ema.shadow[resumed.names.firstIndex(of: "out.weight")!].array)
        XCTAssertThrowsError(try FlowGenCheckpoint.load(from: "/nonexistent.safetensors"))
    }

    /// Dropped prompts read the learned null text: its gradient is non-zero only when some row is dropped.
    func testNullTextReceivesGradientFromDroppedRows() throws {
        let cfg = try FlowGenTestSupport.tinyConfig()
        let m = FlowGenDiT(cfg.model, seed: 1)
        FlowGenTestSupport.perturb(m)
        var rng = RNG(seed: 3)
        let x = rng.normal([2, 4, 2])
        let text = TextContext([FlowGenTestSupport.prompt(seed: 1), FlowGenTestSupport.prompt(seed: 2)], tokens: 4, dim: 8)
        let dropped = m.withNullText(text, drop: [false, true])
        XCTAssertEqual(dropped.padding.array, [1, 1, 1, 0, 1, 0, 0, 0])
        XCTAssertEqual(Array(dropped.context.array[32..<40]), m.nullText.array)
        m(x, t: Tensor([0.3, 0.7], shape: [2]), text: dropped).square().sum().backward()
        XCTAssertGreaterThan(Gradients.norm([m.nullText]), 0)
        m.zeroGrad()
        m(x, t: Tensor([0.3, 0.7], shape: [2]), text: m.withNullText(text, drop: [false, false])).square().sum().backward()
        XCTAssertNil(m.nullText.grad)
    }

    func testPresetsAndConfigValidation() throws {
        for n in FlowGenPresets.names { XCTAssertNoThrow(try FlowGenPresets.resolve(n, grid: 8, channels: 4), n) }
        let c = try FlowGenPresets.resolve("flowgen-s", grid: 8, channels: 4, steps: 77)
        XCTAssertEqual(c.train.steps, 77)
        XCTAssertEqual(try FlowGenConfig.from(json: try c.json()), c)
        XCTAssertThrowsError(try FlowGenPresets.resolve("flowgen-zz", grid: 8, channels: 4))
        var bad = c; bad.model.heads = 3
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("model.heads"), "\($0)") }
    }
}
