import ComputeCore
import FlowGen

/// Few-step sampling of a student (1-4 steps, no classifier-free guidance pass: guidance was
/// distilled in) as a step iterator on the flow grid t_k = shift(1 - k/steps) (`FlowSchedule.grid`):
/// - sCM: x̂0 = x - t·v(x, t) (= the TrigFlow consistency function), then re-noise to the next
///   t' with fresh noise from the image's own seed: x ← (1 - t')·x̂0 + t'·ε' (sCM's multistep rule;
///   2 steps put the middle at t = 0.5, i.e. TrigFlow τ = 1.1 with σ_d = 0.5).
/// - MeanFlow: z_{t'} = z_t - (t - t')·u(z_t, t', t).
/// Image i draws its noise from its own seed only, so it does not depend on the rest of the batch.
public final class StudentSampler {
    public let student: DistillStudent
    public let normalizer: LatentNormalizer
    public let steps: Int
    public let grid: [Float]
    /// Completed steps.
    public private(set) var step = 0
    /// Current state (normalised). [B, T, C]
    public private(set) var x: Tensor
    private let text: TextContext
    private var rngs: [RNG]

    public init(student: DistillStudent, normalizer: LatentNormalizer, prompts: [TextFeatures], seeds: [UInt64],
                steps: Int) throws {
        guard DistillConfig.sampleStepRange.contains(steps) else {
            throw MethodError.invalidInput(field: "steps", message: "a student samples with 1...4 steps, got \(steps)")
        }
        guard !prompts.isEmpty, prompts.count == seeds.count else {
            throw MethodError.invalidInput(field: "seeds", message: "need one seed per prompt (\(prompts.count) prompts, \(seeds.count) seeds)")
        }
        let mc = student.net.config
        self.student = student; self.normalizer = normalizer; self.steps = steps
        grid = FlowSchedule.grid(steps: steps, shift: mc.shift)
        rngs = seeds.map { RNG(seed: $0) }
        let per = mc.tokens * mc.latentChannels
        let noise = Tensor(uninitialized: [prompts.count, mc.tokens, mc.latentChannels])
        for i in 0..<prompts.count {
            let n = rngs[i].normal([per])
            (noise.ptr + i * per).update(from: n.ptr, count: per)
        }
        x = noise
        text = TextContext(prompts, tokens: mc.textTokens, dim: mc.textDim)
    }

    public var isFinished: Bool { step >= steps }

    /// Advances one step; returns false once finished.
    @discardableResult
    public func next() -> Bool {
        guard !isFinished else { return false }
        let B = x.shape[0], t0 = grid[step], t1 = grid[step + 1]
        let per = x.count / B
        withNoGrad {
            let tT = Tensor.full([B], t0)
            switch student.method {
            case .scm:
                let x0 = x - student.net(x, t: tT, text: text) * t0
                if t1 > 0 {
                    let eps = Tensor(uninitialized: x.shape)
                    for i in 0..<B { let n = rngs[i].normal([per]); (eps.ptr + i * per).update(from: n.ptr, count: per) }
                    x = (x0 * (1 - t1) + eps * t1).detached()
                } else {
                    x = x0.detached()
                }
            case .meanflow:
                let u = student.meanVelocity(x, r: Tensor.full([B], t1), t: tT, text: text)
                x = (x - u * (t0 - t1)).detached()
            }
        }
        step += 1
        return true
    }

    /// Runs every remaining step.
    public func run() { while next() {} }

    /// Final (or current) latents in the tokenizer's scale. [B, T, C]
    public var latents: Tensor { normalizer.denormalize(x) }
}
