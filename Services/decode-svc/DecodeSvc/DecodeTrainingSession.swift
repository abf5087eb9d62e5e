import ComputeCore
import Foundation
import MeshKit
import ReFusion

/// A decode trainer as a `TrainingSession`. Checkpoints are the model file served by
/// decode.run (weights + config metadata + `step`); a resumed run restores the weights and
/// step, the optimiser moments restart.
final class DecodeTrainingSession: TrainingSession {
    let trainer: DecodeTrainer
    private(set) var completedSteps = 0
    private var recent: [Double] = []

    init(_ trainer: DecodeTrainer) { self.trainer = trainer }

    var totalSteps: Int { trainer.setup.steps }
    /// Mean loss of the last 20 steps.
    var meanLoss: Double { recent.reduce(0, +) / Double(max(recent.count, 1)) }

    func step() throws -> TrainingStep {
        let loss = trainer.trainStep()
        completedSteps += 1
        recent.append(loss)
        if recent.count > 20 { recent.removeFirst() }
        return TrainingStep(metrics: ["loss": meanLoss, "loss_step": loss], items: trainer.setup.batchSize)
    }

    func saveCheckpoint(to url: URL) throws {
        try trainer.model.save(to: url.path, extra: [
            "objective": trainer.setup.objective.rawValue, "steps": "\(trainer.setup.steps)",
            "seed": "\(trainer.setup.seed)", "step": "\(completedSteps)",
        ])
    }

    func restore(from url: URL) throws {
        let f = try SafetensorsFile(path: url.path)
        guard let step = f.metadata["step"].flatMap(Int.init), step <= totalSteps else {
            throw ServiceError(.internalError, "checkpoint \(url.lastPathComponent) has no usable step")
        }
        try trainer.model.load(try f.all())
        completedSteps = step
    }
}
