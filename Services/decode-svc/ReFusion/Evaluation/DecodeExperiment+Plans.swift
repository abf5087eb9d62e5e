extension DecodeExperiment.Plan {
    /// `quick` (seconds in a release build; for tests: tiny model, 2 seeds, 2 learning rates, a few
    /// steps), `standard` (the committed report: `small` preset, ~0.2 M parameters, 3 seeds),
    /// `long` (`standard` plus long addition and sorting, 64-128-token responses, on the full
    /// fortunes corpus with the `base` preset: 1.27 M parameters, inside the 1-3 M asked).
    ///
    /// Wall time of `long`: its first sweep model (AR, lr 5e-4, 600 steps with 3 held-out evaluations)
    /// took 254.7 s in a release build on 2 cores (session 12: 0.42 s per step, 17.8 TFLOP, ~70 GFLOP/s;
    /// session 7's extrapolation from a debug build, 0.17 s, was 2.5x too low). At the caps (per kind a
    /// 3-rate sweep of 600 steps; 3 seeds of at most 6,000 steps, MDM 12,000; the paper-recipe ablation
    /// 6,000), ~83,000 steps, that is ~10 h on 2 cores before early stopping shortens it, plus
    /// evaluation. It spans sessions: every finished model and measurement set goes to the ledger
    /// (`decode-long/ledger/`), every finished model's weights and the unfinished one's snapshot to
    /// `decode-long/models/` (`keepsWeights`), and rerunning the same command resumes from them on
    /// any machine (session 18 found a fresh machine without the disk cache: 10 h of weights gone).
    public static func named(_ name: String) -> DecodeExperiment.Plan? {
        var plan: DecodeExperiment.Plan
        switch name {
        case "quick":
            plan = DecodeExperiment.Plan(modelPreset: "tiny", maxDigits: 2, arSteps: 15, mdmSteps: 15, refusionSteps: 8, batchSize: 8,
                                         learningRate: 3e-3, arithmeticTestCount: 4, textTestCount: 2,
                                         parameters: DecodeParameters(maxTokens: 32, slotSize: 4, blockSize: 8, slotThreshold: 0.5,
                                                                      tokenThreshold: 0.7),
                                         slotSweep: [2, 4], thresholdSweep: [0.5, 0.9], seed: 1)
            plan.seeds = [1, 2]; plan.learningRates = [2e-3, 4e-3]; plan.sweepSteps = 4
            plan.evalEvery = 2; plan.patience = 2; plan.validationCount = 4
        case "standard":
            plan = DecodeExperiment.Plan(modelPreset: "small", maxDigits: 2, arSteps: 3000, mdmSteps: 6000, refusionSteps: 3000,
                                         batchSize: 24, learningRate: 2e-3, arithmeticTestCount: 200, textTestCount: 40,
                                         parameters: DecodeParameters(maxTokens: 32, slotSize: 4, blockSize: 8, slotThreshold: 0.5,
                                                                      tokenThreshold: 0.7),
                                         slotSweep: [1, 2, 4, 8], thresholdSweep: [0.3, 0.5, 0.7, 0.9], seed: 1)
            plan.sweepSteps = 600
        case "long":
            plan = DecodeExperiment.Plan(modelPreset: "base", maxDigits: 2, arSteps: 6000, mdmSteps: 12000, refusionSteps: 6000,
                                         batchSize: 32, learningRate: 1e-3, arithmeticTestCount: 200, textTestCount: 100,
                                         parameters: DecodeParameters(maxTokens: 128, slotSize: 4, blockSize: 16, slotThreshold: 0.5,
                                                                      tokenThreshold: 0.7),
                                         slotSweep: [2, 4, 8], thresholdSweep: [0.3, 0.5, 0.7, 0.9], seed: 1,
                                         extraTasks: [.longAddition, .sorting], corpus: .full)
            plan.learningRates = [5e-4, 1e-3, 2e-3]; plan.sweepSteps = 600; plan.evalEvery = 200
            plan.keepsWeights = true
        default: return nil
        }
        plan.name = name
        return plan
    }

    public static let names = ["quick", "standard", "long"]

    /// The early-stopping patience (held-out evaluations without improvement) of a model whose step
    /// cap is `cap`: `patience` at AR's cap, scaled with the cap so that every kind stops after the
    /// same share of its cap without improvement. MDM's cap is twice AR's: its held-out loss, over
    /// random masks, is noisier and keeps falling for longer (session 15: under AR's 3 evaluations,
    /// one long-plan MDM seed stopped at 5,800 of 12,000 steps at held-out loss 0.457 while still
    /// falling, and the next seed ran to the cap at 0.28).
    func patience(forCap cap: Int) -> Int {
        max(patience, (patience * cap + arSteps - 1) / max(arSteps, 1))
    }

    /// Every field that changes how the data are built, for model recipes.
    var dataRecipe: String {
        "data seed \(seed) digits \(maxDigits) train \(trainExamplesPerTask) extra \(extraTasks.map(\.rawValue)) corpus \(corpus.rawValue) "
            + "test \(arithmeticTestCount)/\(textTestCount) validation \(validationCount)"
    }
}
