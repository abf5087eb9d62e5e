import Foundation

/// Trains until held-out loss stops improving: held-out loss every `evalEvery` steps, stop after
/// `patience` evaluations without an improvement, at most `maxSteps` steps (the cosine schedule
/// spans `maxSteps`); the weights of the best evaluation are kept.
public struct PlateauTraining: Sendable, Equatable, Codable {
    public var maxSteps: Int
    public var evalEvery: Int
    public var patience: Int
    /// An evaluation improves when it beats the best so far by more than this (relative).
    public var minRelativeImprovement = 1e-3

    public init(maxSteps: Int, evalEvery: Int, patience: Int) {
        precondition(maxSteps >= 1 && evalEvery >= 1 && patience >= 1, "PlateauTraining: maxSteps, evalEvery and patience must be >= 1")
        self.maxSteps = maxSteps; self.evalEvery = evalEvery; self.patience = patience
    }

    /// What one run did.
    public struct Result: Sendable, Codable, Equatable {
        /// Optimiser steps actually taken.
        public var stepsTrained: Int
        /// The step whose weights were kept.
        public var bestStep: Int
        public var bestHeldOutLoss: Double
        /// (step, held-out loss) of every evaluation.
        public var curve: [[Double]]
        /// Mean training loss over the last `evalEvery` steps before stopping.
        public var finalTrainingLoss: Double
        /// Whether held-out loss plateaued (false: the step cap came first).
        public var plateaued: Bool
        public var seconds: Double
        public var flops: Double
    }

    /// Runs `trainer` with this rule on `heldOut` examples. `progress(step, maxSteps, heldOutLoss)`
    /// follows every evaluation; `shouldStop` is checked between steps. Leaves the best weights in `trainer.model`.
    public func run(_ trainer: DecodeTrainer, heldOut: [SequenceExample], shouldStop: () throws -> Void = {},
                    progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws -> Result {
        let inputs = trainer.heldOutInputs(heldOut)
        let t0 = Date()
        var best = trainer.heldOutLoss(inputs), bestStep = 0, bad = 0
        var bestWeights = trainer.model.copy()
        var curve: [[Double]] = [[0, best]]
        var recent: [Double] = []
        var plateaued = false
        for s in 1...maxSteps {
            try shouldStop()
            recent.append(trainer.trainStep())
            if recent.count > evalEvery { recent.removeFirst() }
            guard s % evalEvery == 0 || s == maxSteps else { continue }
            let h = trainer.heldOutLoss(inputs)
            curve.append([Double(s), h])
            progress(s, maxSteps, h)
            if h < best * (1 - minRelativeImprovement) {
                best = h; bestStep = s; bad = 0; bestWeights = trainer.model.copy()
            } else {
                bad += 1
                if bad >= patience { plateaued = true; break }
            }
        }
        trainer.model.assignWeights(from: bestWeights)
        return Result(stepsTrained: trainer.step, bestStep: bestStep, bestHeldOutLoss: best, curve: curve,
                      finalTrainingLoss: recent.reduce(0, +) / Double(max(recent.count, 1)), plateaued: plateaued,
                      seconds: Date().timeIntervalSince(t0), flops: trainer.flops)
    }
}
