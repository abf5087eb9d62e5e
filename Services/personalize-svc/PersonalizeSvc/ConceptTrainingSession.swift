import ComputeCore
import DTI
import Foundation
import MeshKit

/// The concept learner as a `TrainingSession`: every step reports loss, token norm, m* and the
/// cosine to the class word, plus the latest positional probe (every `logEvery` steps) and
/// subject score (every `scoreEvery` steps), both from the one `ConceptEvaluator`; the last step
/// also reports the prompt score. Checkpoints are the learner's state plus the `embedding` prompts use.
final class ConceptTrainingSession: TrainingSession {
    let learner: ConceptLearner
    let evaluator: ConceptEvaluator
    let name: String
    /// EfficientNet features of the concept images. [N][1280]
    let reference: [[Float]]
    let scoreEvery: Int
    /// Latest measurements (carried into every progress event).
    private(set) var measured: [String: Double] = [:]

    init(_ learner: ConceptLearner, evaluator: ConceptEvaluator, name: String, reference: [[Float]], scoreEvery: Int) {
        self.learner = learner; self.evaluator = evaluator; self.name = name; self.reference = reference
        self.scoreEvery = max(scoreEvery, 1)
    }

    var completedSteps: Int { learner.stepIndex }
    var totalSteps: Int { learner.config.steps }

    func step() throws -> TrainingStep {
        let s = learner.step()
        let e = learner.token.vector
        if s.step % learner.config.logEvery == 0 || learner.isFinished || measured.isEmpty {
            measured["positional_probe"] = evaluator.probe.value(e)
        }
        if s.step % scoreEvery == 0 || learner.isFinished {
            let last = learner.isFinished
            let sc = try evaluator.evaluate(name: name, embedding: e, reference: reference, conceptColor: nil, promptScore: last,
                                            settings: .progress)
            measured["subject_score"] = sc.subject
            if let p = sc.prompt { measured["prompt_score"] = p }
        }
        var m = s.terms.mapValues(Double.init)
        m.merge(measured) { _, new in new }
        return TrainingStep(metrics: m, items: learner.config.batchSize)
    }

    func saveCheckpoint(to url: URL) throws { try learner.save(to: url.path) }

    func restore(from url: URL) throws {
        do { try learner.restore(from: url.path) } catch {
            throw ServiceError.invalid("resume", "\(error)")
        }
    }
}
