import ComputeCore
import Glibc

/// Loss terms and optimiser facts of one training step.
public struct FlowGenStepStats: Sendable, Equatable {
    /// 1-based index of the completed step.
    public var step: Int
    public var loss: Float
    public var mse: Float
    public var cosine: Float
    public var gradNorm: Float
    public var lr: Float
    /// Named loss terms for progress events.
    public var terms: [String: Float] { ["loss": loss, "mse": mse, "cos": cosine, "grad_norm": gradNorm, "lr": lr] }
}

/// Latent flow-matching training (METHODS.md §3): x_t = (1 - t)·x0 + t·ε with t logit-normal (or uniform) then
/// shifted, velocity target ε - x0, loss MSE + w·mean(1 - cos) per token, prompts dropped to the
/// null text with probability 0.1, AdamW (0.9, 0.95) with warm-up + cosine decay, gradient
/// clipping, EMA weights for sampling. All randomness of step k comes from (seed, k), so a run
/// resumed from a checkpoint continues exactly like an uninterrupted one.
public final class FlowGenTrainer {
    public let config: FlowGenConfig
    public let model: FlowGenDiT
    public let names: [String]
    public let optimizer: AdamW
    public let ema: EMA
    public let schedule: CosineSchedule
    /// Completed steps.
    public var stepIndex = 0

    public init(config: FlowGenConfig) throws {
        try config.validate()
        self.config = config
        model = FlowGenDiT(config.model, seed: config.train.seed)
        let named = model.namedParameters()
        names = named.map(\.0)
        optimizer = AdamW(named.map(\.1), lr: config.train.lr, betas: (config.train.beta1, config.train.beta2),
                          eps: 1e-8, weightDecay: config.train.weightDecay)
        ema = EMA(named.map(\.1))
        schedule = CosineSchedule(baseLR: config.train.lr, warmupSteps: config.train.warmupSteps,
                                  totalSteps: config.train.steps, minLR: config.train.lr * 0.1)
    }

    public var isFinished: Bool { stepIndex >= config.train.steps }

    /// The per-step random stream: a pure function of (seed, step).
    public func stepRNG(_ step: Int) -> RNG {
        var base = RNG(seed: config.train.seed &+ 0x51_7CC1_B727_220A &* UInt64(step + 1))
        return base.fork()
    }

    /// One optimisation step on the next batch of `data`.
    public func step(_ data: FlowGenData) throws -> FlowGenStepStats {
        var rng = stepRNG(stepIndex)
        let (x0, prompts) = try data.batch(step: stepIndex, batchSize: config.train.batchSize, seed: config.train.seed, rng: &rng)
        return step(x0: x0, prompts: prompts, rng: &rng)
    }

    /// One optimisation step on a given batch. x0 [B, T, C] normalised latents.
    public func step(x0: Tensor, prompts: [TextFeatures], rng: inout RNG) -> FlowGenStepStats {
        let tc = config.train, B = x0.shape[0]
        let drop = (0..<B).map { _ in rng.uniform() < tc.condDropout }
        let t = (0..<B).map { _ -> Float in
            tc.timeSampling == .uniform ? FlowSchedule.sampleUniformT(rng.uniform(), shift: config.model.shift)
                : FlowSchedule.sampleT(rng.normal(), mean: tc.logitMean, std: tc.logitStd, shift: config.model.shift)
        }
        let eps = rng.normal(x0.shape)
        let xt = FlowSchedule.interpolate(x0, eps, t: t)
        let target = eps - x0                                                   // [B, T, C]
        let text = model.withNullText(TextContext(prompts, tokens: config.model.textTokens, dim: config.model.textDim), drop: drop)
        let lr = schedule.lr(at: stepIndex)
        optimizer.lr = lr
        let vhat = model(xt, t: Tensor(t, shape: [B]), text: text)
        let mse = Tensor.mseLoss(vhat, target)
        let cos = Tensor.cosineLoss(vhat, target)
        let loss = tc.cosineWeight > 0 ? mse + cos * tc.cosineWeight : mse
        let (lv, mv, cv) = (loss.item, mse.item, cos.item)
        model.zeroGrad()
        loss.backward()
        let params = optimizer.params
        let gn = tc.gradClip > 0 ? Gradients.clipNorm(params, maxNorm: tc.gradClip) : Gradients.norm(params)
        optimizer.step()
        // Warm-up of the EMA horizon (like timm's ModelEmaV2 with warmup): early averages track faster.
        ema.update(momentum: min(tc.emaDecay, Float(stepIndex + 1) / Float(stepIndex + 10)))
        model.zeroGrad()
        stepIndex += 1
        return FlowGenStepStats(step: stepIndex, loss: lv, mse: mv, cosine: cv, gradNorm: gn, lr: lr)
    }

    /// A model holding the EMA weights (for previews and checkpoints' sampling weights).
    public func emaModel() -> FlowGenDiT {
        let m = FlowGenDiT(config.model, seed: config.train.seed)
        ema.copy(into: m.parameters())
        m.setFrozen(true)
        return m
    }

    /// Step iterator over the remaining steps: each `next()` trains one step.
    public func steps(_ data: FlowGenData) -> FlowGenTrainingSteps { FlowGenTrainingSteps(trainer: self, data: data) }
}

/// Training as a step iterator (progress, checkpoints and cancellation happen between steps).
public struct FlowGenTrainingSteps: IteratorProtocol, Sequence {
    public let trainer: FlowGenTrainer
    public let data: FlowGenData
    /// The error that ended iteration early, if any.
    public private(set) var error: Error?
    public mutating func next() -> FlowGenStepStats? {
        guard !trainer.isFinished, error == nil else { return nil }
        do { return try trainer.step(data) } catch { self.error = error; return nil }
    }
}
