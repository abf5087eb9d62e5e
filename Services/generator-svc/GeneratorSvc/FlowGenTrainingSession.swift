import FlowGen
import Foundation
import MeshKit

/// The FlowGen trainer as a `TrainingSession`: each step reports the loss terms (loss, mse, cos,
/// grad_norm, lr) and images/step; every `previewEvery` steps it samples the preview prompts with
/// the EMA weights (`onPreview`); checkpoints are full trainer state plus the latent normaliser
/// and the tokenizer's name (`FlowGenCheckpoint`), so a resumed run continues exactly.
final class FlowGenTrainingSession: TrainingSession {
    let trainer: FlowGenTrainer
    let data: FlowGenData
    let normalizer: LatentNormalizer
    let metadata: [String: String]
    var previewEvery = 0
    var onPreview: ((Int, FlowGenDiT) throws -> Void)?

    init(_ trainer: FlowGenTrainer, data: FlowGenData, normalizer: LatentNormalizer, metadata: [String: String]) {
        self.trainer = trainer; self.data = data; self.normalizer = normalizer; self.metadata = metadata
    }

    var completedSteps: Int { trainer.stepIndex }
    var totalSteps: Int { trainer.config.train.steps }

    func step() throws -> TrainingStep {
        let s = try trainer.step(data)
        if previewEvery > 0, s.step % previewEvery == 0 || s.step == totalSteps, let onPreview {
            try onPreview(s.step, trainer.emaModel())
        }
        return TrainingStep(metrics: s.terms.mapValues(Double.init), items: trainer.config.train.batchSize)
    }

    func saveCheckpoint(to url: URL) throws {
        try FlowGenCheckpoint.save(trainer, normalizer: normalizer, metadata: metadata, to: url.path)
    }

    func restore(from url: URL) throws {
        let (cfg, _, meta) = try FlowGenCheckpoint.header(at: url.path)
        guard cfg.model == trainer.config.model else {
            throw ServiceError.invalid("resume", "checkpoint was trained with preset \(cfg.preset) on another latent shape, not \(trainer.config.preset)")
        }
        guard meta["tokenizer_sha256"] == metadata["tokenizer_sha256"] else {
            throw ServiceError.invalid("resume", "checkpoint was trained on tokenizer \(meta["tokenizer"] ?? "?"), not \(metadata["tokenizer"] ?? "?")")
        }
        try FlowGenCheckpoint.restore(trainer, from: url.path)
    }
}
