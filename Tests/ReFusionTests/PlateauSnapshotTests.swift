import ComputeCore
import Foundation
import XCTest
@testable import ReFusion

/// A plateau-training run stopped between evaluations and continued from its snapshot ends
/// exactly where an uninterrupted run does: the same curve, steps, compute and weights.
final class PlateauSnapshotTests: XCTestCase {
    struct Stop: Error {}

    func data() -> DecodeDataset {
        let task = ArithmeticTask(maxDigits: 2, seed: 1)
        return DecodeDataset(arithmetic: task, arithmeticTrain: task.trainingExamples(count: 64, seed: 2),
                             arithmeticTest: [], textTrain: [], textTest: [])
    }

    func trainer(_ mode: DecodeMode, _ data: DecodeDataset) -> DecodeTrainer {
        DecodeTrainer(config: TransformerConfig.preset("tiny")!,
                      setup: TrainingSetup(objective: mode, steps: 12, batchSize: 4, learningRate: 3e-3, warmupSteps: 2, seed: 4),
                      data: data)
    }

    func testAResumedRunEqualsAnUninterruptedOne() throws {
        let data = data()
        let heldOut = Array(data.arithmeticTrain.prefix(8))
        // patience high enough that both runs go to the cap: the snapshot must carry the schedule's position
        let rule = PlateauTraining(maxSteps: 12, evalEvery: 3, patience: 10)
        for mode in [DecodeMode.ar, .mdm] {
            let whole = trainer(mode, data)
            let expected = try rule.run(whole, heldOut: heldOut)

            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plateau-snapshot-\(getpid())-\(mode)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let url = dir.appendingPathComponent("snap.safetensors")
            // First piece: stopped after step 7 (snapshots at the evaluations of steps 3 and 6).
            let first = trainer(mode, data)
            var calls = 0
            XCTAssertThrowsError(try rule.run(first, heldOut: heldOut, snapshot: url, shouldStop: {
                calls += 1
                if calls > 7 { throw Stop() }
            }))
            XCTAssertEqual(first.step, 7)
            XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), "a snapshot was kept")
            // Second piece: a fresh trainer (another process) continues from step 6.
            let second = trainer(mode, data)
            var steps: [Int] = []
            let resumed = try rule.run(second, heldOut: heldOut, snapshot: url) { s, _, _ in steps.append(s) }
            XCTAssertEqual(steps, [9, 12], "\(mode): continued after step 6, not from 0")
            XCTAssertEqual(resumed.curve, expected.curve, "\(mode)")
            XCTAssertEqual(resumed.stepsTrained, expected.stepsTrained)
            XCTAssertEqual(resumed.bestStep, expected.bestStep)
            XCTAssertEqual(resumed.bestHeldOutLoss, expected.bestHeldOutLoss)
            XCTAssertEqual(resumed.flops, expected.flops)
            XCTAssertEqual(resumed.finalTrainingLoss, expected.finalTrainingLoss)
            for ((name, a), (_, b)) in zip(whole.model.namedParameters(), second.model.namedParameters()) {
                XCTAssertEqual(a.array, b.array, "\(mode) \(name)")
            }
        }
    }

    func testTheBestWeightsSurviveAResume() throws {
        let data = data()
        let heldOut = Array(data.arithmeticTrain.prefix(8))
        let rule = PlateauTraining(maxSteps: 9, evalEvery: 3, patience: 5)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plateau-best-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("snap.safetensors")
        let first = trainer(.ar, data)
        var calls = 0
        _ = try? rule.run(first, heldOut: heldOut, snapshot: url, shouldStop: { calls += 1; if calls > 4 { throw Stop() } })
        let probe = trainer(.ar, data)
        let (progress, best) = try XCTUnwrap(try PlateauSnapshot.read(url, into: probe))
        XCTAssertEqual(progress.curve.last?.first, 3, "the last evaluation kept is step 3's")
        XCTAssertEqual(probe.step, 3)
        XCTAssertEqual(progress.curve.count, 2)
        // the snapshot's current weights are the model after step 3, not the first run's after step 4
        XCTAssertTrue(zip(probe.model.namedParameters(), first.model.namedParameters()).contains { $0.0.1.array != $0.1.1.array })
        // its best weights are those of the best evaluation: step 3's or the initial ones
        let reference = progress.bestStep == 3 ? probe.model : trainer(.ar, data).model
        XCTAssertTrue([0, 3].contains(progress.bestStep))
        for ((name, a), (_, b)) in zip(reference.namedParameters(), best.namedParameters()) { XCTAssertEqual(a.array, b.array, name) }
        XCTAssertNil(try PlateauSnapshot.read(dir.appendingPathComponent("none.safetensors"), into: probe))
    }
}
