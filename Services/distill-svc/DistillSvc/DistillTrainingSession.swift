import Distill
import FlowGen
import Foundation
import MeshKit

/// The distillation trainer as a `TrainingSession`: steps report loss, gradient norm, tangent RMS
/// and the warm-up factor; checkpoints are full trainer state (`DistillCheckpoint`).
final class DistillTrainingSession: TrainingSession {
    let trainer: DistillTrainer
    let data: FlowGenData
    let normalizer: LatentNormalizer
    let metadata: [String: String]

    init(trainer: DistillTrainer, data: FlowGenData, normalizer: LatentNormalizer, metadata: [String: String]) {
        self.trainer = trainer; self.data = data; self.normalizer = normalizer; self.metadata = metadata
    }

    var completedSteps: Int { trainer.stepIndex }
    var totalSteps: Int { trainer.config.steps }

    func step() throws -> TrainingStep {
        let s = try trainer.step(data)
        return TrainingStep(metrics: s.terms.mapValues(Double.init), items: min(trainer.config.batchSize, data.count))
    }

    func saveCheckpoint(to url: URL) throws {
        try DistillCheckpoint.save(trainer, normalizer: normalizer, metadata: metadata, to: url.path)
    }

    func restore(from url: URL) throws {
        let (cfg, model, _, _) = try DistillCheckpoint.header(at: url.path)
        guard cfg.method == trainer.config.method, model == trainer.student.net.config else {
            throw ServiceError.invalid("resume", "checkpoint is a \(cfg.method.rawValue) student at time scale \(cfg.timeInputScale), not \(trainer.config.method.rawValue) at \(trainer.config.timeInputScale)")
        }
        try DistillCheckpoint.restore(trainer, from: url.path)
    }
}
