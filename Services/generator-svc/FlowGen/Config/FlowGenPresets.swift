import ComputeCore
import Foundation

/// Named generator configurations: `flowgen-xs` (tests, seconds), `flowgen-s` (the default
/// `scripts/run` trains: width 128, depth 4, the METHODS.md §3 calibration model), `flowgen-m`
/// (the reference DiT: width 256, depth 6). The latent grid comes from the tokenizer.
public enum FlowGenPresets {
    public static let names = ["flowgen-xs", "flowgen-s", "flowgen-m"]
    /// The preset `scripts/run` and `meshctl generator train` use when none is named.
    public static let defaultName = "flowgen-s"

    /// Resolves `name` for a tokenizer latent of `grid` x `grid` x `channels`; `steps` overrides the budget.
    public static func resolve(_ name: String, grid: Int, channels: Int, steps: Int? = nil) throws -> FlowGenConfig {
        var c = FlowGenConfig(preset: name)
        c.model.grid = grid; c.model.latentChannels = channels
        switch name {
        case "flowgen-xs":
            c.model.width = 32; c.model.depth = 1; c.model.heads = 2; c.model.timeFrequencyDim = 32; c.model.textTokens = 16
            c.train.steps = 30; c.train.batchSize = 8; c.train.warmupSteps = 2; c.train.checkpointEvery = 10
            c.train.lr = 2e-3; c.train.emaDecay = 0.9
        case "flowgen-s":
            c.model.width = 128; c.model.depth = 4; c.model.heads = 4; c.model.textTokens = 16
            c.train.steps = 800; c.train.batchSize = 32; c.train.warmupSteps = 40; c.train.checkpointEvery = 200
            c.train.lr = 5e-4; c.train.emaDecay = 0.995
        case "flowgen-m":
            c.model.width = 256; c.model.depth = 6; c.model.heads = 4
            c.train.steps = 6000; c.train.batchSize = 64; c.train.warmupSteps = 200; c.train.checkpointEvery = 500
            c.train.lr = 3e-4; c.train.emaDecay = 0.9995
        default:
            throw MethodError.unknownPreset(name, known: FlowGenPresets.names)
        }
        if let steps {
            guard steps >= 1 else { throw MethodError.invalidConfig(field: "steps", message: "must be >= 1, got \(steps)") }
            c.train.steps = steps
        }
        try c.validate()
        return c
    }
}
