import ComputeCore
import Foundation
@testable import FlowGen

/// Tiny configurations and synthetic data for the FlowGen tests (no tokenizer, no MiniLM).
enum FlowGenTestSupport {
    /// grid 2 (4 tokens) x 2 channels, width 32, one block, 8-d text.
    static func tinyConfig(steps: Int = 30, dropout: Float = 0.1, batch: Int = 4) throws -> FlowGenConfig {
        var c = try FlowGenPresets.resolve("flowgen-xs", grid: 2, channels: 2, steps: steps)
        c.model.textDim = 8; c.model.textTokens = 4
        c.train.batchSize = batch; c.train.condDropout = dropout; c.train.warmupSteps = 5
        c.train.lr = 3e-3; c.train.emaDecay = 0.5; c.train.cosineWeight = 0.1
        try c.validate()
        return c
    }

    /// Random prompt features of `length` tokens.
    static func prompt(seed: UInt64, length: Int = 3, dim: Int = 8) -> TextFeatures {
        var rng = RNG(seed: seed)
        return TextFeatures(values: rng.normal([length * dim]).array, length: length, dim: dim)
    }

    /// n images with one distinct prompt each; latents are well separated random points.
    static func pairs(_ n: Int, config: FlowGenConfig) throws -> FlowGenData {
        var rng = RNG(seed: 99)
        let lat = rng.normal([n, config.model.tokens, config.model.latentChannels])
        let texts = (0..<n).map { prompt(seed: UInt64(100 + $0), length: 2 + $0 % 2, dim: config.model.textDim) }
        return try FlowGenData(latents: lat, texts: texts, captions: (0..<n).map { [$0] })
    }

    /// Moves every parameter off its (partly zero) initialisation so outputs are non-trivial.
    static func perturb(_ m: FlowGenDiT, seed: UInt64 = 5, std: Float = 0.2) {
        var rng = RNG(seed: seed)
        for p in m.parameters() { p.assign(p + rng.normal(p.shape, std: std)) }
    }

    static func tempPath(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "flowgen-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }
}
