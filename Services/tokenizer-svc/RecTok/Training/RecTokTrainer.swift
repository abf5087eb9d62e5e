import ComputeCore
import Datasets
import Evaluation
import FlowGen
import Foundation
import VTP

/// What one RecTok step reports: the tokenizers' common step statistics.
public typealias RecTokStepStats = VTPStepStats

/// The two phases of RecTok training (METHODS.md §2).
public enum RecTokPhase: String, Sendable {
    /// Encoder, decoder and semantic head together on the noisy masked latent.
    case joint
    /// Decoder-only fine-tune on clean latents (encoder frozen, nothing masked, no noise).
    case decoder
}

/// The RecTok trainer as a step iterator (METHODS.md §2): callers run `step()` until `isFinished`
/// and may report progress, check cancellation or save a checkpoint between steps. Steps
/// 0..<train.steps are the joint phase, the next train.decoderSteps the decoder fine-tune.
/// Every step's randomness (batch, mask, t, noise) derives from (seed, step), so a run resumed
/// from a checkpoint continues exactly like an uninterrupted one.
public final class RecTokTrainer {
    public let config: RecTokConfig
    public let model: RecTokModel
    /// Phase 1: every trainable parameter. Phase 2: the pixel decoder and its mask token (fresh moments).
    public let optimizer: VTPOptimizer
    public let decoderOptimizer: VTPOptimizer
    public let data: VTPData
    /// Precomputed teacher features (nil with FSD off).
    public let teacher: RecTokTeacherCache?
    public internal(set) var stepIndex = 0
    let sampler: BatchSampler

    /// `data` and `teacher` may be shared between trainers (tests, sweeps); by default they are
    /// opened from the configuration. The teacher is only used with FSD on.
    public init(config: RecTokConfig, data: VTPData? = nil, teacher: (any RecTokTeacher)? = nil) throws {
        try config.validate()
        self.config = config
        let d = try data ?? VTPData(dataset: config.train.dataset, imageSize: config.model.imageSize,
                                    validationFraction: config.train.validationFraction, trainLimit: config.train.trainLimit)
        self.data = d
        if config.fsd {
            let t = try teacher ?? config.makeTeacher()
            self.teacher = RecTokTeacherCache(teacher: t, grid: config.model.grid)
        } else {
            self.teacher = nil
        }
        model = RecTokModel(config.model, teacherChannels: self.teacher?.teacher.channels, seed: config.train.seed)
        optimizer = VTPOptimizer(model.namedParameters().filter { $0.1.requiresGrad }, lr: config.train.lr,
                                 weightDecay: config.train.weightDecay)
        decoderOptimizer = VTPOptimizer(model.decoderParameters.map { ("finetune." + $0.0, $0.1) }, lr: config.train.decoderLR,
                                        weightDecay: config.train.weightDecay)
        try MethodError.checkInput(d.train.count >= config.train.batchSize, "train.batchSize",
                                   "\(config.train.batchSize) exceeds the \(d.train.count) training images")
        sampler = try BatchSampler(count: d.train.count, batchSize: config.train.batchSize, seed: config.train.seed,
                                   shuffle: true, dropLast: true)
    }

    /// Computes (or loads from `store`) the teacher features of every training image before the
    /// first step; without it they are computed batch by batch as training first meets them.
    /// Returns how many were loaded from the store (0 with FSD off).
    @discardableResult
    public func prepareTeacher(store: EvaluationCache) throws -> Int {
        guard let teacher else { return 0 }
        return try teacher.precompute(data, indices: data.train, dataset: config.train.dataset,
                                      imageSize: config.model.imageSize, store: store)
    }

    public var isFinished: Bool { stepIndex >= config.totalSteps }
    /// The phase step `step` belongs to.
    public func phase(at step: Int) -> RecTokPhase { step < config.train.steps ? .joint : .decoder }

    /// Learning rate at `step`: joint phase linear warm-up then cosine to `minLR`; decoder phase
    /// cosine from `decoderLR` to `minLR`.
    public func lr(at step: Int) -> Float {
        let t = config.train
        if phase(at: step) == .decoder {
            return CosineSchedule.cosine(from: t.decoderLR, to: t.minLR, step: step - t.steps, total: max(1, t.decoderSteps))
        }
        if step < t.warmupSteps { return t.lr * Float(step + 1) / Float(max(1, t.warmupSteps)) }
        return CosineSchedule.cosine(from: t.lr, to: t.minLR, step: step - t.warmupSteps, total: max(1, t.steps - t.warmupSteps))
    }

    /// The random stream of `step`: a pure function of (seed, step).
    public func stepRNG(_ step: Int) -> RNG { RNG(seed: SeededRNG.derive(config.train.seed, UInt64(step) &+ 1)) }

    /// The batch of `step`: dataset indices and patches [B, T, 3·p²].
    public func batch(step: Int) throws -> (indices: [Int], images: [ImageBuffer], patches: Tensor) {
        let indices = sampler.batch(step: step).map { data.train[$0] }
        let images = try data.images(indices, size: config.model.imageSize)
        return (indices, images, try Patchify.patches(images, patch: config.model.patchSize, channels: config.model.channels))
    }

    /// The joint phase's randomness for a batch of B: mask (one ratio per batch), one noise level
    /// t = FlowSchedule.shift(u, s) per image, posterior noise ε and flow noise ε' [B, V, d].
    public func draws(step: Int, batch B: Int) -> (mask: RecTokMask, t: [Float], posteriorNoise: Tensor, flowNoise: Tensor) {
        var rng = stepRNG(step)
        let l = config.loss, T = config.model.tokens, d = config.model.latentChannels
        let ratio = RecTokMask.ratio(u: rng.uniform(), min: l.maskRatioMin, max: l.maskRatioMax)
        let mask = RecTokMask.random(batch: B, tokens: T, ratio: ratio, rng: &rng)
        let s = config.noiseShift
        let t = (0..<B).map { _ in RecTokLosses.noiseLevel(u: rng.uniform(), shift: s) }
        let V = mask.visibleCount
        return (mask, t, rng.normal([B, V, d]), rng.normal([B, V, d]))
    }

    /// The loss terms of `step` (no update): the weighted total and each term unweighted.
    public func losses(step: Int) throws -> (total: Tensor, terms: [String: Tensor], extra: [String: Double], images: Int) {
        let (indices, images, x) = try batch(step: step)                    // x [B, T, 3·p²]
        let B = x.shape[0], l = config.loss
        if phase(at: step) == .decoder {
            let z = withNoGrad { model.encode(x).detached() }                // clean latents [B, T, d]
            let rec = RecTokLosses.reconstruction(model.decode(z), x)
            return (rec, ["rec": rec], [:], B)
        }
        let r = draws(step: step, batch: B)
        let f = model.forward(x, mask: r.mask, posteriorNoise: r.posteriorNoise, flowNoise: r.flowNoise, t: r.t,
                              noiseScale: l.noiseScale, logVarRange: l.logVarMin...l.logVarMax)
        let rec = RecTokLosses.reconstruction(f.patches, x)
        let kl = RecTokLosses.kl(mean: f.mean, logVar: f.logVar)
        var terms = ["rec": rec, "kl": kl]
        var total = rec + kl * l.klWeight
        if let pred = f.semantics, let teacher {
            let target = try teacher.tensor(indices: indices, images: images)   // [B, T, C]
            let sem = RecTokLosses.semantic(pred, teacher: target)
            terms["sem"] = sem
            total = total + sem * l.semanticWeight
        }
        let extra = ["mask_ratio": Double(r.mask.ratio), "t_mean": Double(r.t.reduce(0, +) / Float(B)),
                     "posterior_std": Double(withNoGrad { (f.logVar * 0.5).exp().mean().item })]
        return (total, terms, extra, B)
    }

    /// Runs one optimisation step of the current phase (losses, backward, clip, AdamW).
    @discardableResult
    public func step() throws -> RecTokStepStats {
        precondition(!isFinished, "RecTokTrainer.step: already at step \(stepIndex) of \(config.totalSteps)")
        let start = Date()
        let s = stepIndex, ph = phase(at: s)
        let opt = ph == .joint ? optimizer : decoderOptimizer
        model.zeroGrad()
        let out = try losses(step: s)
        out.total.backward()
        let gnorm = Gradients.clipNorm(opt.params, maxNorm: config.train.gradClip)
        opt.lr = lr(at: s)
        opt.step()
        model.zeroGrad()
        stepIndex += 1
        var metrics: [String: Double] = ["loss": Double(out.total.item), "lr": Double(opt.lr), "grad_norm": Double(gnorm),
                                         "phase": ph == .joint ? 1 : 2]
        for (k, v) in out.terms { metrics["loss_" + k] = Double(v.item) }
        metrics.merge(out.extra) { a, _ in a }
        return RecTokStepStats(step: stepIndex, metrics: metrics, images: out.images, seconds: Date().timeIntervalSince(start))
    }
}
