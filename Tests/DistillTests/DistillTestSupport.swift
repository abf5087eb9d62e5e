import ComputeCore
import Foundation
import FlowGen
@testable import Distill

/// A tiny perturbed teacher, synthetic data and configs for the Distill tests (no tokenizer, no MiniLM).
enum DistillTestSupport {
    /// flowgen-xs on a 2x2x2 latent with 8-d text, time scale `scale`.
    static func teacherConfig(scale: Float = 1) throws -> FlowGenConfig {
        var c = try FlowGenPresets.resolve("flowgen-xs", grid: 2, channels: 2)
        c.model.textDim = 8; c.model.textTokens = 4; c.model.timeInputScale = scale
        try c.validate()
        return c
    }

    /// A teacher whose parameters are moved off their (partly zero) initialisation.
    static func teacher(scale: Float = 1, seed: UInt64 = 3) throws -> FlowGenDiT {
        let m = FlowGenDiT(try teacherConfig(scale: scale).model, seed: seed)
        var rng = RNG(seed: seed &+ 11)
        for p in m.parameters() { p.assign(p + rng.normal(p.shape, std: 0.2)) }
        return m
    }

    static func prompt(seed: UInt64, length: Int = 3, dim: Int = 8) -> TextFeatures {
        var rng = RNG(seed: seed)
        return TextFeatures(values: rng.normal([length * dim]).array, length: length, dim: dim)
    }

    /// n latents with one prompt each.
    static func data(_ n: Int, model: FlowGenModelConfig) throws -> FlowGenData {
        var rng = RNG(seed: 99)
        let lat = rng.normal([n, model.tokens, model.latentChannels])
        let texts = (0..<n).map { prompt(seed: UInt64(100 + $0), length: 2 + $0 % 2, dim: model.textDim) }
        return try FlowGenData(latents: lat, texts: texts, captions: (0..<n).map { [$0] })
    }

    static func config(_ method: DistillMethod, steps: Int = 20, scale: Float = 1) throws -> DistillConfig {
        try DistillPresets.resolve("distill-xs", method: method, timeInputScale: scale, steps: steps)
    }

    /// ‖a - b‖ / ‖b‖.
    static func relErr(_ a: Tensor, _ b: Tensor) -> Float {
        var d: Float = 0, n: Float = 0
        for i in 0..<a.count { d += (a.ptr[i] - b.ptr[i]) * (a.ptr[i] - b.ptr[i]); n += b.ptr[i] * b.ptr[i] }
        return (d / max(n, 1e-20)).squareRoot()
    }

    static func tempPath(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "distill-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }
}
