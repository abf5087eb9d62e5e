import ComputeCore
import Models

/// Facts of one concept-learning step (for progress events).
public struct ConceptStepStats: Sendable, Equatable {
    /// 1-based index of the completed step.
    public var step: Int
    /// Denoising loss of the step's batch (before the update).
    public var loss: Float
    /// ‖e‖ after the update, and the vocabulary's m*.
    public var norm: Float
    public var mStar: Float
    /// Cosine between e and the class word's embedding after the update.
    public var classCosine: Float
    public var terms: [String: Float] { ["loss": loss, "token_norm": norm, "m_star": mStar, "class_cos": classCosine] }
}

/// Learns a concept token (METHODS.md §4). DTI: Riemannian SGD on the unit sphere — g = ∂L/∂v - κμ,
/// projected to the tangent space, normalised to a fixed-length step, retracted by normalisation
/// (`RiemannianSGD`); TI: AdamW on e. The step's batch is a pure function of (seed, step), so a
/// resumed run continues exactly like an uninterrupted one.
public final class ConceptLearner {
    public let config: DTIConfig
    public let objective: ConceptObjective
    public let token: ConceptToken
    public let prior: VMFPrior
    public let optimizer: Optimizer
    /// Completed steps.
    public var stepIndex = 0

    /// mStar: the encoder's `meanVocabularyNorm()` (pass it to avoid re-measuring).
    public init(config: DTIConfig, objective: ConceptObjective, classWord: String, mStar: Float? = nil) throws {
        try config.validate()
        self.config = config; self.objective = objective
        let cls = try ConceptToken.classEmbedding(classWord, encoder: objective.encoder)
        let m = mStar ?? objective.encoder.meanVocabularyNorm()
        token = ConceptToken(method: config.method, mStar: m, classEmbedding: cls)
        prior = VMFPrior(mean: cls, kappa: config.kappa)
        switch config.method {
        case .dti:
            optimizer = RiemannianSGD([token.parameter], lr: config.lr, kappa: config.kappa,
                                      priorMean: [Tensor(prior.mean, shape: [1, cls.count])])
        case .ti:
            optimizer = AdamW([token.parameter], lr: config.lr, betas: (0.9, 0.999), eps: 1e-8, weightDecay: config.weightDecay)
        }
    }

    public var isFinished: Bool { stepIndex >= config.steps }

    /// One update on the step's batch.
    public func step() -> ConceptStepStats {
        let batch = objective.batch(step: stepIndex, size: config.batchSize, seed: config.seed)
        token.parameter.zeroGrad()
        let loss = objective.loss(batch, embedding: token.embedding)
        let lv = loss.item
        loss.backward()
        optimizer.step()
        token.parameter.zeroGrad()
        stepIndex += 1
        return ConceptStepStats(step: stepIndex, loss: lv, norm: token.norm, mStar: token.mStar, classCosine: token.classCosine)
    }

    /// Mean loss of `count` fixed evaluation batches (seeded apart from training) at the current token.
    public func evaluationLoss(batches count: Int = 4, seed: UInt64 = 0xE7A1) -> Float {
        withNoGrad {
            let e = token.embedding.detached()
            return (0..<count).map { objective.loss(objective.batch(step: $0, size: config.batchSize, seed: seed), embedding: e).item }
                .reduce(0, +) / Float(count)
        }
    }

    /// Step iterator over the remaining steps.
    public func steps() -> ConceptLearningSteps { ConceptLearningSteps(learner: self) }
}

/// Learning as a step iterator (progress, checkpoints and cancellation happen between steps).
public struct ConceptLearningSteps: IteratorProtocol, Sequence {
    public let learner: ConceptLearner
    public mutating func next() -> ConceptStepStats? {
        learner.isFinished ? nil : learner.step()
    }
}
