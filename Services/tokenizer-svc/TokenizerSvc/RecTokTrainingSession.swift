import Foundation
import MeshKit
import RecTok

/// The RecTok trainer as a `TrainingSession` (METHODS.md §2): steps of both phases (joint, then
/// decoder-only fine-tune) report every loss term, the phase and `teacher_computed` (images the
/// teacher ran on in this process: 0 when its features came from the artifact store);
/// checkpoints are full trainer state (`RecTokCheckpoint`), so a resumed run continues exactly,
/// and a checkpoint of another model configuration is refused.
final class RecTokTrainingSession: TrainingSession {
    let trainer: RecTokTrainer
    init(_ trainer: RecTokTrainer) { self.trainer = trainer }

    var completedSteps: Int { trainer.stepIndex }
    var totalSteps: Int { trainer.config.totalSteps }

    func step() throws -> TrainingStep {
        let stats = try trainer.step()
        var metrics = stats.metrics
        if let t = trainer.teacher { metrics["teacher_computed"] = Double(t.computed) }
        return TrainingStep(metrics: metrics, items: stats.images)
    }

    func saveCheckpoint(to url: URL) throws { try RecTokCheckpoint.save(trainer, to: url.path) }

    func restore(from url: URL) throws {
        let header: (config: RecTokConfig, step: Int, teacher: String)
        do { header = try RecTokCheckpoint.header(at: url.path) } catch {
            throw ServiceError.invalid("resume", "the checkpoint to resume from is not a RecTok checkpoint (\(error))")
        }
        let cfg = header.config, own = trainer.config
        guard cfg.model == own.model && cfg.fsd == own.fsd && cfg.teacher == own.teacher else {
            throw ServiceError.invalid("resume", "checkpoint was trained as \(cfg.modelName) (teacher \(cfg.teacher.kind.rawValue)), not \(own.modelName) (teacher \(own.teacher.kind.rawValue))")
        }
        try RecTokCheckpoint.restore(trainer, from: url.path)
    }
}
