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

        /// Whether `other` is the same training run (the same steps and held-out curve; wall time aside).
        public func sameRun(as other: Result) -> Bool {
            stepsTrained == other.stepsTrained && bestStep == other.bestStep && curve == other.curve
        }
    }

    /// Where the rule stands after an evaluation (`PlateauSnapshot` keeps it with the trainer's own
    /// state: weights, AdamW's moments, step, compute, data RNG).
    public struct Progress: Sendable, Codable, Equatable {
        public var best: Double
        public var bestStep: Int
        /// Evaluations since the last improvement.
        public var bad: Int
        public var curve: [[Double]]
        /// Training losses of the last `evalEvery` steps.
        public var recent: [Double]
        /// Training wall time so far, summed over resumed pieces.
        public var seconds: Double
    }

    /// Runs `trainer` with this rule on `heldOut` examples. `progress(step, maxSteps, heldOutLoss)`
    /// follows every evaluation; `shouldStop` is checked between steps. Leaves the best weights in `trainer.model`.
    /// With `snapshot`, the run's state is written there after every evaluation that does not end it,
    /// and a run finding a snapshot there continues from it (the same steps, batches and result as an
    /// uninterrupted run); the caller removes it once the trained model is stored.
    public func run(_ trainer: DecodeTrainer, heldOut: [SequenceExample], snapshot: URL? = nil,
                    shouldStop: () throws -> Void = {},
                    progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws -> Result {
        let inputs = trainer.heldOutInputs(heldOut)
        var p: Progress
        var bestWeights: TransformerLM
        if let snapshot, let saved = try PlateauSnapshot.read(snapshot, into: trainer) {
            (p, bestWeights) = saved
        } else {
            let h = trainer.heldOutLoss(inputs)
            p = Progress(best: h, bestStep: 0, bad: 0, curve: [[0, h]], recent: [], seconds: 0)
            bestWeights = trainer.model.copy()
        }
        let t0 = Date(), before = p.seconds
        var plateaued = p.bad >= patience
        while !plateaued && trainer.step < maxSteps {
            try shouldStop()
            p.recent.append(trainer.trainStep())
            if p.recent.count > evalEvery { p.recent.removeFirst() }
            let s = trainer.step
            guard s % evalEvery == 0 || s == maxSteps else { continue }
            let h = trainer.heldOutLoss(inputs)
            p.curve.append([Double(s), h])
            progress(s, maxSteps, h)
            if h < p.best * (1 - minRelativeImprovement) {
                p.best = h; p.bestStep = s; p.bad = 0; bestWeights = trainer.model.copy()
            } else {
                p.bad += 1
                plateaued = p.bad >= patience
            }
            if let snapshot, !plateaued && s < maxSteps {
                p.seconds = before + Date().timeIntervalSince(t0)
                try PlateauSnapshot.write(trainer, best: bestWeights, progress: p, to: snapshot)
            }
        }
        trainer.model.assignWeights(from: bestWeights)
        return Result(stepsTrained: trainer.step, bestStep: p.bestStep, bestHeldOutLoss: p.best, curve: p.curve,
                      finalTrainingLoss: p.recent.reduce(0, +) / Double(max(p.recent.count, 1)), plateaued: plateaued,
                      seconds: before + Date().timeIntervalSince(t0), flops: trainer.flops)
    }
}
