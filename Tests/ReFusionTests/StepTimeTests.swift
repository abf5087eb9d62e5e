import Foundation
import XCTest
@testable import ReFusion

/// Seconds per training step of the `small` and `base` presets on the standard and long plans'
/// data mixes (opt-in: DECODE_STEP_TIMING=1): the measurement behind the `long` plan's time
/// estimate (`DecodeExperiment.Plan.named`), taken in whatever build runs the tests.
final class StepTimeTests: XCTestCase {
    func testSecondsPerTrainingStep() throws {
        guard ProcessInfo.processInfo.environment["DECODE_STEP_TIMING"] == "1" else {
            throw XCTSkip("opt-in measurement: DECODE_STEP_TIMING=1")
        }
        for name in ["standard", "long"] {
            var plan = DecodeExperiment.Plan.named(name)!
            plan.trainExamplesPerTask = 500
            let data = try DecodeExperiment.standardData(plan: plan)
            for mode in [DecodeMode.ar, .refusion] {
                let s = TrainingSetup(objective: mode, steps: 100, batchSize: plan.batchSize, learningRate: 1e-3)
                let t = DecodeTrainer(config: TransformerConfig.preset(plan.modelPreset)!, setup: s, data: data)
                t.trainStep()   // warm-up
                let t0 = Date()
                for _ in 0..<3 { t.trainStep() }
                print(String(format: "STEPTIME %@ (%@, %d parameters, batch %d) %@: %.3f s per step", name, plan.modelPreset,
                             t.model.parameterCount, plan.batchSize, mode.rawValue, Date().timeIntervalSince(t0) / 3))
            }
        }
    }
}
