import DTI
import Foundation
import MeshKit

/// The concept learner as a `TrainingSession`: each step reports loss, token norm, m* and the
/// cosine to the class word; checkpoints are the learner's state plus the `embedding` prompts use.
final class ConceptTrainingSession: TrainingSession {
    let learner: ConceptLearner
    init(_ learner: ConceptLearner) { self.learner = learner }

    var completedSteps: Int { learner.stepIndex }
    var totalSteps: Int { learner.config.steps }

    func step() throws -> TrainingStep {
        let s = learner.step()
        return TrainingStep(metrics: s.terms.mapValues(Double.init), items: learner.config.batchSize)
    }

    func saveCheckpoint(to url: URL) throws { try learner.save(to: url.path) }

    func restore(from url: URL) throws {
        do { try learner.restore(from: url.path) } catch {
            throw ServiceError.invalid("resume", "\(error)")
        }
    }
}
