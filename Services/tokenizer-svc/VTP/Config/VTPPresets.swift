import ComputeCore
import Foundation

/// Named, fully resolved configurations: `<variant>-<data>-<size>`, e.g. `vtp-fmnist32-s`.
/// Variants `ae`, `clip-ae`, `ssl-ae`, `vtp`; data `fmnist32` (Fashion-MNIST at 32 px, p=4),
/// `fmnistc32` (`fmnist-color`: tinted, colour + garment captions; the generator's data) or
/// `emoji32`; sizes `xs` (tests), `s` (report), `m` (users). A budget multiplier scales steps.
public enum VTPPresets {
    public static let datasets = ["fmnist32": "fashion-mnist", "fmnistc32": "fmnist-color", "emoji32": "emoji"]
    public static let sizes = ["xs", "s", "m"]

    /// Every preset name.
    public static var names: [String] {
        var out: [String] = []
        for v in VTPVariant.allCases { for d in datasets.keys.sorted() { for s in sizes { out.append("\(v.rawValue)-\(d)-\(s)") } } }
        return out
    }

    /// Resolves `name`, optionally scaling the step budget by `budget` (steps = round(base * budget)).
    public static func resolve(_ name: String, budget: Double = 1) throws -> VTPConfig {
        let parts = name.split(separator: "-").map(String.init)
        guard parts.count >= 3 else { throw MethodError.unknownPreset(name, known: VTPPresets.names) }
        let size = parts[parts.count - 1], data = parts[parts.count - 2]
        let variantName = parts[0..<(parts.count - 2)].joined(separator: "-")
        guard let variant = VTPVariant(rawValue: variantName), let dataset = datasets[data], sizes.contains(size) else {
            throw MethodError.unknownPreset(name, known: VTPPresets.names)
        }
        guard budget > 0 && budget <= 1000 else {
            throw MethodError.invalidConfig(field: "budget", message: "must be in (0, 1000], got \(budget)")
        }
        var c = VTPConfig(preset: name, variant: variant)
        c.train.dataset = dataset
        switch size {
        case "xs":
            c.model.width = 32; c.model.encoderDepth = 1; c.model.heads = 2; c.model.decoderWidth = 32
            c.model.decoderDepth = 1; c.model.clipDim = 32; c.model.dinoHidden = 64; c.model.dinoBottleneck = 16
            c.model.prototypes = 64
            c.train.steps = 20; c.train.batchSize = 8; c.train.sslBatch = 4; c.train.recBatch = 2
            c.train.localCrops = 1; c.train.warmupSteps = 2; c.train.checkpointEvery = 10; c.train.trainLimit = 512
        case "s":
            c.model.width = 64; c.model.encoderDepth = 3; c.model.heads = 4; c.model.decoderWidth = 64
            c.model.decoderDepth = 2; c.model.clipDim = 64; c.model.dinoHidden = 128; c.model.dinoBottleneck = 32
            c.model.prototypes = 256
            c.train.steps = 200; c.train.batchSize = 32; c.train.sslBatch = 8; c.train.recBatch = 8
            c.train.localCrops = 2; c.train.warmupSteps = 20; c.train.checkpointEvery = 100
        default: // "m"
            c.model.width = 128; c.model.encoderDepth = 6; c.model.heads = 4; c.model.decoderWidth = 128
            c.model.decoderDepth = 3; c.model.clipDim = 128; c.model.dinoHidden = 256; c.model.dinoBottleneck = 64
            c.model.prototypes = 1024
            c.train.steps = 3000; c.train.batchSize = 64; c.train.sslBatch = 16; c.train.recBatch = 8
            c.train.localCrops = 4; c.train.warmupSteps = 100; c.train.checkpointEvery = 500
        }
        // The reconstruction-only AE gives its whole batch to reconstruction (no other objective).
        if variant == .ae { c.train.recBatch = c.train.batchSize }
        c.train.steps = max(1, Int((Double(c.train.steps) * budget).rounded()))
        try c.validate()
        return c
    }
}
