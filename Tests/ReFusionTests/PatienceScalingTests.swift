import Evaluation
import Foundation
import TestKit
import XCTest
@testable import ReFusion

/// Early stopping per model kind: patience scales with the kind's step cap (MDM's cap is twice
/// AR's), and a run under the smaller patience that reached its cap is the same model, reused from
/// the ledger instead of trained again; one that plateaued is not.
final class PatienceScalingTests: XCTestCase {
    func testPatienceScalesWithTheStepCap() throws {
        let long = try XCTUnwrap(DecodeExperiment.Plan.named("long"))
        XCTAssertEqual(long.patience(forCap: long.arSteps), 3)
        XCTAssertEqual(long.patience(forCap: long.refusionSteps), 3)
        XCTAssertEqual(long.patience(forCap: long.mdmSteps), 6, "MDM's 12,000-step cap is twice AR's 6,000")
        let quick = try XCTUnwrap(DecodeExperiment.Plan.named("quick"))
        XCTAssertEqual(quick.patience(forCap: quick.refusionSteps), quick.patience, "never below the plan's patience")
        var odd = long
        odd.arSteps = 4000
        XCTAssertEqual(odd.patience(forCap: 5000), 4, "rounded up: 3 x 5000 / 4000 = 3.75")
    }

    func testACappedRunUnderTheSmallerPatienceIsReusedAndAPlateauedOneIsNot() throws {
        var plan = try XCTUnwrap(DecodeExperiment.Plan.named("quick"))
        plan.seeds = [1]; plan.learningRates = [3e-3]
        plan.arSteps = 4; plan.mdmSteps = 8; plan.evalEvery = 2; plan.patience = 1
        XCTAssertEqual(plan.patience(forCap: plan.mdmSteps), 2)
        let data = try DecodeExperiment.standardData(plan: plan)
        let root = TestRequirement.tempDir("decode-patience")
        defer { try? FileManager.default.removeItem(at: root) }
        let ledger = ReportLedger(directory: root.appendingPathComponent("ledger"))
        let experiment = DecodeExperiment(plan: plan, data: data, cacheDirectory: root.appendingPathComponent("cache"), ledger: ledger)
        let lr: Float = 3e-3
        let setup = experiment.setup(.mdm, seed: 1, learningRate: lr, steps: plan.mdmSteps)
        let base = PlateauTraining(maxSteps: plan.mdmSteps, evalEvery: plan.evalEvery, patience: plan.patience)
        let scaled = PlateauTraining(maxSteps: plan.mdmSteps, evalEvery: plan.evalEvery, patience: 2)
        let baseName = experiment.modelName(kind: "mdm", setup: setup, rule: base, initial: nil)
        let scaledName = experiment.modelName(kind: "mdm", setup: setup, rule: scaled, initial: nil)
        XCTAssertNotEqual(baseName, scaledName, "patience is part of the recipe")
        func record(plateaued: Bool) -> TrainingRecord {
            TrainingRecord(kind: "mdm", seed: 1, learningRate: lr, parameters: 1,
                           training: PlateauTraining.Result(stepsTrained: plateaued ? 4 : plan.mdmSteps, bestStep: 2, bestHeldOutLoss: 0.5,
                                                            curve: [[2, 0.5]], finalTrainingLoss: 0.6, plateaued: plateaued,
                                                            seconds: 1, flops: 1))
        }
        func trainSeed() throws -> (DecodeExperiment.TrainedModel, [String]) {
            var lines: [String] = []
            let m = try experiment.trainSeed(.mdm, seed: 1, learningRate: lr, initial: nil, log: { lines.append($0) }, shouldStop: {})
            return (m, lines)
        }

        // Ran to the cap under patience 1: the same model; nothing trained, the old name kept.
        try ledger.store(record(plateaued: false), key: baseName, provenance: ["commit": "c1"])
        let (capped, cappedLines) = try trainSeed()
        XCTAssertEqual(capped.name, baseName)
        XCTAssertEqual(capped.record, record(plateaued: false))
        XCTAssertFalse(capped.isMaterialized)
        XCTAssertFalse(cappedLines.contains { $0.hasPrefix("train ") }, "\(cappedLines)")
        XCTAssertTrue(cappedLines.contains { $0.contains("reached the step cap") }, "\(cappedLines)")

        // Plateaued under patience 1: patience 2 might have trained on, so the model is trained under its own name.
        try FileManager.default.removeItem(at: try ledger.file(baseName))
        try ledger.store(record(plateaued: true), key: baseName, provenance: ["commit": "c1"])
        let (trained, trainedLines) = try trainSeed()
        XCTAssertEqual(trained.name, scaledName)
        XCTAssertTrue(trained.isMaterialized)
        XCTAssertTrue(trainedLines.contains { $0.hasPrefix("train mdm seed 1: \(scaledName)") }, "\(trainedLines)")
        XCTAssertNotNil(try ledger.entry(scaledName, as: TrainingRecord.self), "kept under its own name")
    }
}
