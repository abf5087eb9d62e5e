import ComputeCore
import Datasets
import FlowGen
import Foundation
import Models

/// The experiment behind `meshctl report personalize` (METHODS.md §4, issue 12): on a frozen
/// text-conditioned generator, concepts made of a few views of one held-out `fmnist-color` test
/// garment are learned with TI and DTI (same steps, seeds and batches), and TI's final token is
/// also rescaled to m*. Every variant is measured by one `ConceptEvaluator`; DTI's learning rate and
/// κ are first chosen on separate tuning concepts by held-out denoising loss (never on the scored
/// concepts).
public struct PersonalizeExperiment {
    public let plan: PersonalizePlan
    public let concepts: [ExperimentConcept]
    public let tuningConcepts: [ExperimentConcept]
    public let encoder: MiniLMEncoder
    public let generator: FlowGenModel
    public let evaluator: ConceptEvaluator

    /// The concept's learning record: norm, loss and probe curves and its final scores.
    public struct Run: Codable, Sendable {
        public var concept: String
        /// `dti`, `ti`, `ti-rescaled` (TI's final token × m*/‖e‖) or `class-word` (no learning).
        public var variant: String
        public var seed: UInt64
        public var norms: [Double]
        public var losses: [Double]
        /// (step, probe value) every `plan.logEvery` steps.
        public var probeSteps: [Int]
        public var probes: [Double]
        public var heldOutLoss: Double?
        public var scores: ConceptEvaluator.Scores
        public var seconds: Double
        /// The final token embedding. [384]
        public var embedding: [Float]
    }

    /// One cell of the DTI learning-rate × κ sweep on the tuning concepts.
    public struct TuningCell: Codable, Sendable {
        public var lr: Float
        public var kappa: Float
        public var meanHeldOutLoss: Double
        public var spread: Double
    }

    public struct Outcome: Codable, Sendable {
        public var plan: PersonalizePlan
        public var mStar: Double
        public var probeValidationAccuracy: Double
        public var tuning: [TuningCell]
        public var chosenLR: Float
        public var chosenKappa: Float
        public var runs: [Run]
        /// Probe value of each scored concept's final DTI direction rescaled to `probeNorms`.
        public var probeNorms: [Double]
        public var probeCurve: [Double]
        public var probeCurveSpread: [Double]
        public var concepts: [ExperimentConcept.Facts]
    }

    public init(plan: PersonalizePlan, concepts: [ExperimentConcept], tuningConcepts: [ExperimentConcept], encoder: MiniLMEncoder,
                generator: FlowGenModel, evaluator: ConceptEvaluator) {
        self.plan = plan; self.concepts = concepts; self.tuningConcepts = tuningConcepts
        self.encoder = encoder; self.generator = generator; self.evaluator = evaluator
    }

    func config(_ method: ConceptMethod, seed: UInt64, lr: Float, kappa: Float, steps: Int? = nil) throws -> DTIConfig {
        var c = try DTIPresets.resolve(DTIPresets.defaultName, method: method, steps: steps ?? plan.steps, seed: seed)
        c.batchSize = plan.batchSize; c.logEvery = plan.logEvery
        if method == .dti { c.lr = lr; c.kappa = kappa } else { c.lr = plan.tiLR }
        try c.validate()
        return c
    }

    func learner(_ concept: ExperimentConcept, _ cfg: DTIConfig) throws -> ConceptLearner {
        let obj = try ConceptObjective(encoder: encoder, generator: generator, latents: concept.latents, name: concept.name, templates: cfg.templates)
        return try ConceptLearner(config: cfg, objective: obj, classWord: concept.classWord, mStar: evaluator.mStar)
    }

    /// The sweep: every (lr, κ) of the plan on every tuning concept; the lowest mean held-out loss wins.
    func tune(log: (String) -> Void) throws -> (cells: [TuningCell], lr: Float, kappa: Float) {
        var cells: [TuningCell] = []
        for lr in plan.lrSweep {
            for kappa in plan.kappaSweep {
                var losses: [Double] = []
                for c in tuningConcepts {
                    let l = try learner(c, try config(.dti, seed: plan.seeds[0], lr: lr, kappa: kappa, steps: plan.tuningSteps))
                    for _ in l.steps() {}
                    losses.append(Double(l.evaluationLoss(batches: plan.heldOutBatches)))
                }
                let (m, s) = Stats.meanStd(losses)
                cells.append(TuningCell(lr: lr, kappa: kappa, meanHeldOutLoss: m, spread: s))
                log(String(format: "tuning dti lr %.3g kappa %.3g: held-out loss %.5f ± %.5f", lr, kappa, m, s))
            }
        }
        let best = cells.min { $0.meanHeldOutLoss < $1.meanHeldOutLoss }!
        return (cells, best.lr, best.kappa)
    }

    /// Runs tuning, learning and evaluation.
    public func run(log: (String) -> Void = { print($0) }) throws -> Outcome {
        let (cells, lr, kappa) = try tune(log: log)
        var runs: [Run] = []
        var dtiDirections: [[Float]] = []
        for c in concepts {
            let ref = evaluator.referenceFeatures(c.images)
            let base = try ConceptToken.classEmbedding(c.classWord, encoder: encoder)
            runs.append(Run(concept: c.name, variant: "class-word", seed: 0, norms: [], losses: [], probeSteps: [], probes: [], heldOutLoss: nil,
                            scores: try evaluator.evaluate(name: c.name, embedding: base, reference: ref, conceptColor: c.colorIndex), seconds: 0,
                            embedding: base))
            for seed in plan.seeds {
                for method in [ConceptMethod.dti, .ti] {
                    let t0 = Date()
                    let l = try learner(c, try config(method, seed: seed, lr: lr, kappa: kappa))
                    var norms: [Double] = [], losses: [Double] = [], ps: [Int] = [0], pv = [evaluator.probe.value(l.token.vector)]
                    for s in l.steps() {
                        norms.append(Double(s.norm)); losses.append(Double(s.loss))
                        if s.step % plan.logEvery == 0 { ps.append(s.step); pv.append(evaluator.probe.value(l.token.vector)) }
                    }
                    let held = Double(l.evaluationLoss(batches: plan.heldOutBatches))
                    let e = l.token.vector
                    let scores = try evaluator.evaluate(name: c.name, embedding: e, reference: ref, conceptColor: c.colorIndex)
                    runs.append(Run(concept: c.name, variant: method.rawValue, seed: seed, norms: norms, losses: losses, probeSteps: ps, probes: pv,
                                    heldOutLoss: held, scores: scores, seconds: Date().timeIntervalSince(t0), embedding: e))
                    log(String(format: "%@ %@ seed %llu: norm %.3f (m* %.3f) held-out %.5f %@", c.name, method.rawValue, seed, l.token.norm,
                               evaluator.mStar, held, scores.dictionary.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.3f", $0.value))" }.joined(separator: " ")))
                    if method == .dti { dtiDirections.append(e) }
                    if method == .ti {
                        let rescaled = ConceptBlend.normalized(e).map { $0 * evaluator.mStar }
                        let heldR = withNoGrad { () -> Double in
                            Double((0..<plan.heldOutBatches).map {
                                l.objective.loss(l.objective.batch(step: $0, size: plan.batchSize, seed: 0xE7A1), embedding: Tensor(rescaled, shape: [1, rescaled.count])).item
                            }.reduce(0, +)) / Double(plan.heldOutBatches)
                        }
                        runs.append(Run(concept: c.name, variant: "ti-rescaled", seed: seed, norms: [], losses: [], probeSteps: [], probes: [],
                                        heldOutLoss: heldR,
                                        scores: try evaluator.evaluate(name: c.name, embedding: rescaled, reference: ref, conceptColor: c.colorIndex),
                                        seconds: 0, embedding: rescaled))
                    }
                }
            }
        }
        // Probe value vs norm along the learned DTI directions (spread over concepts and seeds).
        let m = Double(evaluator.mStar)
        let norms = plan.probeNormMultiples.map { $0 * m }
        let curves = dtiDirections.map { evaluator.probe.curve(direction: $0, norms: norms.map(Float.init)) }
        let stats = norms.indices.map { i in Stats.meanStd(curves.map { $0[i] }) }
        return Outcome(plan: plan, mStar: m, probeValidationAccuracy: evaluator.probe.validationAccuracy, tuning: cells,
                       chosenLR: lr, chosenKappa: kappa, runs: runs, probeNorms: norms, probeCurve: stats.map(\.mean),
                       probeCurveSpread: stats.map(\.std), concepts: concepts.map(\.facts))
    }
}

/// Mean and (population-corrected) standard deviation.
public enum Stats {
    public static func meanStd(_ xs: [Double]) -> (mean: Double, std: Double) {
        guard !xs.isEmpty else { return (.nan, .nan) }
        let m = xs.reduce(0, +) / Double(xs.count)
        guard xs.count > 1 else { return (m, 0) }
        let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
        return (m, v.squareRoot())
    }
}
