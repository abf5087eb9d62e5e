import ComputeCore
import Foundation
import VTP

/// Named, fully resolved configurations `rectok-<data>-<size>`, e.g. `rectok-fmnistc32-s`.
/// Data as VTP's presets (`fmnist32`, `fmnistc32`, `emoji32`; 32 px, p = 4, an 8x8 grid); sizes
/// `xs` (tests), `s` (report), `m` (users). The experiment's axes are arguments: latent width d
/// (8, 16, 32), flow semantic distillation on or off, and a budget multiplier that scales both
/// phases' steps (METHODS.md §2, "The experiment").
public enum RecTokPresets {
    public static let sizes = ["xs", "s", "m"]
    /// Latent widths of the experiment.
    public static let latentWidths = [8, 16, 32]

    /// Every preset name.
    public static var names: [String] {
        VTPPresets.datasets.keys.sorted().flatMap { d in sizes.map { "rectok-\(d)-\($0)" } }
    }

    /// Resolves `name` with latent width `latentChannels`, FSD on or off, and step budget
    /// multiplier `budget` (steps = round(base · budget) in both phases); validates the result.
    public static func resolve(_ name: String, latentChannels: Int = 16, fsd: Bool = true, budget: Double = 1) throws -> RecTokConfig {
        let parts = name.split(separator: "-").map(String.init)
        guard parts.count == 3, parts[0] == "rectok", let dataset = VTPPresets.datasets[parts[1]], sizes.contains(parts[2]) else {
            throw MethodError.unknownPreset(name, known: names)
        }
        var c = RecTokConfig(preset: name, fsd: fsd)
        c.budget = budget
        c.train.dataset = dataset
        c.model.latentChannels = latentChannels
        switch parts[2] {
        case "xs":
            c.model.width = 32; c.model.encoderDepth = 1; c.model.heads = 2; c.model.decoderWidth = 32
            c.model.decoderDepth = 1; c.model.semanticWidth = 16; c.model.semanticDepth = 1
            c.train.steps = 20; c.train.decoderSteps = 4; c.train.batchSize = 8; c.train.warmupSteps = 2
            c.train.checkpointEvery = 10; c.train.trainLimit = 512
            c.train.lr = 2e-3
        case "s":
            c.model.width = 64; c.model.encoderDepth = 3; c.model.heads = 4; c.model.decoderWidth = 64
            c.model.decoderDepth = 2; c.model.semanticWidth = 32; c.model.semanticDepth = 3
            c.train.steps = 600; c.train.decoderSteps = 150; c.train.batchSize = 32; c.train.warmupSteps = 30
            c.train.checkpointEvery = 200; c.train.trainLimit = 8192
        default: // "m"
            c.model.width = 128; c.model.encoderDepth = 6; c.model.heads = 4; c.model.decoderWidth = 128
            c.model.decoderDepth = 3; c.model.semanticWidth = 64; c.model.semanticDepth = 3
            c.train.steps = 3000; c.train.decoderSteps = 750; c.train.batchSize = 64; c.train.warmupSteps = 100
            c.train.checkpointEvery = 500
        }
        if !fsd { c.loss.semanticWeight = 0 }
        if budget > 0 && budget <= 1000 {
            c.train.steps = max(1, Int((Double(c.train.steps) * budget).rounded()))
            c.train.decoderSteps = Int((Double(c.train.decoderSteps) * budget).rounded())
        }
        try c.validate()
        return c
    }
}
