import ComputeCore
import FlowGen
import Glibc

/// Loss terms and optimiser facts of one distillation step.
public struct DistillStepStats: Sendable, Equatable {
    /// 1-based index of the completed step.
    public var step: Int
    /// The optimised total.
    public var loss: Float
    /// Global gradient norm before clipping.
    public var gradNorm: Float
    /// sCM: RMS of the raw tangent g before normalisation; MeanFlow: RMS of u - target.
    public var tangentNorm: Float
    /// sCM: tangent warm-up factor r; MeanFlow: fraction of samples with r ≠ t.
    public var schedule: Float
    public var lr: Float
    /// Named terms for progress events.
    public var terms: [String: Float] {
        ["loss": loss, "grad_norm": gradNorm, "tangent_rms": tangentNorm, "warmup_r": schedule, "lr": lr]
    }
}

/// Few-step distillation of a guided FlowGen teacher into a same-architecture student
/// (METHODS.md §6): sCM (`DistillTrainer+SCM.swift`) or MeanFlow (`DistillTrainer+MeanFlow.swift`),
/// both with the student's Jacobian-vector product by ComputeCore's forward mode (`jvp`).
/// AdamW at a constant rate, global gradient-norm clip. All randomness of step k comes from
/// (seed, k), so a resumed run continues exactly like an uninterrupted one.
public final class DistillTrainer {
    public let config: DistillConfig
    public let teacher: GuidedTeacher
    public let student: DistillStudent
    public let names: [String]
    public let optimizer: AdamW
    /// Completed steps.
    public var stepIndex = 0

    /// A student of `teacher` (weights copied; the teacher is frozen and never changes).
    public init(config: DistillConfig, teacher: FlowGenDiT) throws {
        try config.validate()
        self.config = config
        self.teacher = GuidedTeacher(model: teacher, guidance: config.guidance)
        student = try DistillStudent.from(teacher: teacher, config: config)
        let named = student.namedParameters()
        names = named.map(\.0)
        optimizer = AdamW(named.map(\.1), lr: config.lr, betas: (config.beta1, config.beta2), eps: 1e-8, weightDecay: 0)
    }

    public var isFinished: Bool { stepIndex >= config.steps }

    /// The per-step random stream: a pure function of (seed, step).
    public func stepRNG(_ step: Int) -> RNG {
        var base = RNG(seed: config.seed &+ 0x2545_F491_4F6C_DD1D &* UInt64(step + 1))
        return base.fork()
    }

    /// sCM's tangent warm-up factor r = min(1, step / warmup) at the current step.
    public var warmupFactor: Float {
        config.tangentWarmup == 0 ? 1 : min(1, Float(stepIndex) / Float(config.tangentWarmup))
    }

    /// One optimisation step on the next batch of `data` (normalised teacher-space latents + prompts).
    public func step(_ data: FlowGenData) throws -> DistillStepStats {
        var rng = stepRNG(stepIndex)
        let (x0, prompts) = try data.batch(step: stepIndex, batchSize: config.batchSize, seed: config.seed, rng: &rng)
        return step(x0: x0, prompts: prompts, rng: &rng)
    }

    /// One optimisation step on a given batch. x0 [B, T, C] normalised latents.
    public func step(x0: Tensor, prompts: [TextFeatures], rng: inout RNG) -> DistillStepStats {
        let mc = student.net.config
        let text = TextContext(prompts, tokens: mc.textTokens, dim: mc.textDim)
        student.zeroGrad()
        let (loss, tangent, sched): (Tensor, Float, Float)
        switch config.method {
        case .scm: (loss, tangent, sched) = scmLoss(x0: x0, text: text, rng: &rng)
        case .meanflow: (loss, tangent, sched) = meanFlowLoss(x0: x0, text: text, rng: &rng)
        }
        let lv = loss.item
        loss.backward()
        let params = optimizer.params
        let gn = config.gradClip > 0 ? Gradients.clipNorm(params, maxNorm: config.gradClip) : Gradients.norm(params)
        optimizer.lr = config.lr
        optimizer.step()
        student.zeroGrad()
        stepIndex += 1
        return DistillStepStats(step: stepIndex, loss: lv, gradNorm: gn, tangentNorm: tangent, schedule: sched, lr: config.lr)
    }

    /// Step iterator over the remaining steps: each `next()` trains one step.
    public func steps(_ data: FlowGenData) -> DistillTrainingSteps { DistillTrainingSteps(trainer: self, data: data) }
}

/// Training as a step iterator (progress, checkpoints and cancellation happen between steps).
public struct DistillTrainingSteps: IteratorProtocol, Sequence {
    public let trainer: DistillTrainer
    public let data: FlowGenData
    /// The error that ended iteration early, if any.
    public private(set) var error: Error?
    public mutating func next() -> DistillStepStats? {
        guard !trainer.isFinished, error == nil else { return nil }
        do { return try trainer.step(data) } catch { self.error = error; return nil }
    }
}

/// Per-sample helpers on [B, ...] tensors.
enum PerSample {
    /// [B] values as a broadcastable [B, 1, 1].
    static func column(_ v: [Float]) -> Tensor { Tensor(v, shape: [v.count, 1, 1]) }
    /// Per-sample L2 norms of x [B, ...] (no tape).
    static func norms(_ x: Tensor) -> [Float] {
        let B = x.shape[0], n = x.count / B, p = x.ptr
        return (0..<B).map { b in
            var s: Float = 0
            for i in 0..<n { s += p[b * n + i] * p[b * n + i] }
            return s.squareRoot()
        }
    }
}
