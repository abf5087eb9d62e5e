import Foundation
import MeshKit
import VTP

/// The VTP trainer as a `TrainingSession`: steps report every loss term and images/step;
/// checkpoints are full trainer state (`VTPCheckpoint`), so a resumed run continues exactly.
final class VTPTrainingSession: TrainingSession {
    let trainer: VTPTrainer
    init(_ trainer: VTPTrainer) { self.trainer = trainer }

    var completedSteps: Int { trainer.stepIndex }
    var totalSteps: Int { trainer.config.train.steps }

    func step() throws -> TrainingStep {
        let stats = try trainer.step()
        return TrainingStep(metrics: stats.metrics, items: stats.images)
    }

    func saveCheckpoint(to url: URL) throws { try VTPCheckpoint.save(trainer, to: url.path) }

    func restore(from url: URL) throws {
        let cfg: VTPConfig
        do { cfg = try VTPCheckpoint.header(at: url.path).config } catch {
            throw ServiceError.invalid("resume", "the checkpoint to resume from is not a VTP checkpoint (\(error))")
        }
        guard cfg.model == trainer.config.model && cfg.variant == trainer.config.variant else {
            throw ServiceError.invalid("resume", "checkpoint was trained with preset \(cfg.preset), not \(trainer.config.preset)")
        }
        try VTPCheckpoint.restore(trainer, from: url.path)
    }
}
