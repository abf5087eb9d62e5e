import ComputeCore
import Foundation

/// Named distillation budgets: `distill-xs` (tests, seconds) and `distill-s` (the study-scale
/// run on `flowgen-s` teachers). Method and time-input scale are chosen per run.
public enum DistillPresets {
    public static let names = ["distill-xs", "distill-s"]
    public static let defaultName = "distill-s"

    /// Resolves `name` for `method`; `steps` overrides the budget, `timeInputScale` the input scale.
    public static func resolve(_ name: String, method: DistillMethod, timeInputScale: Float = 1,
                               steps: Int? = nil) throws -> DistillConfig {
        var c = DistillConfig(preset: name, method: method)
        c.timeInputScale = timeInputScale
        switch name {
        case "distill-xs":
            c.steps = 20; c.batchSize = 4; c.lr = 1e-3; c.tangentWarmup = 10; c.checkpointEvery = 10
            c.dataCount = 8; c.teacherSteps = 8
        case "distill-s":
            c.steps = 1500; c.batchSize = 32; c.lr = 1e-4; c.tangentWarmup = 500; c.checkpointEvery = 250
            c.dataCount = 2048; c.teacherSteps = 28
        default:
            throw MethodError.unknownPreset(name, known: DistillPresets.names)
        }
        // MeanFlow's regression is not the sCM tangent objective: the study's clip 0.1 is sCM's.
        if method == .meanflow { c.gradClip = 1; c.sampleSteps = 4 }
        if let steps { c.steps = steps }
        try c.validate()
        return c
    }
}
