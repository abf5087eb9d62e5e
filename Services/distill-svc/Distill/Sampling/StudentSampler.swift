import ComputeCore
import FlowGen

/// Few-step sampling of a student (1-4 steps, no classifier-free guidance pass: guidance was
/// distilled in) as a step iterator on the flow grid t_k = shift(1 - k/steps) (`FlowSchedule.grid`):
/// - sCM: x̂0 = x - t·v(x, t) (= the TrigFlow consistency function), then re-noise to the next
///   t' with fresh noise from the image's own seed: x ← (1 - t')·x̂0 + t'·ε' (sCM's multistep rule;
///   2 steps put the middle at t = 0.5, i.e. TrigFlow τ = 1.1 with σ_d = 0.5).
/// - MeanFlow: z_{t'} = z_t - (t - t')·u(z_t, t', t).
/// Image i draws its noise from its own seed only and the network runs batch-invariantly
/// (`BatchInvariantForward`), so an image is bit-identical whatever the rest of the batch.
public final class StudentSampler {
    public let student: DistillStudent
    public let normalizer: LatentNormalizer
    public let steps: Int
    public let grid: [Float]
    /// Samples per network forward (the bits do not depend on it: `BatchInvariantForward`).
    public let chunk: Int
    /// Completed steps.
    public private(set) var step = 0
    /// Current state (normalised). [B, T, C]
    public private(set) var x: Tensor
    /// The x0 estimate of the last step (normalised): sCM's consistency output, MeanFlow's
    /// x - t·u(x, t', t) (the step's average velocity extrapolated to t = 0); the final state once
    /// finished. [B, T, C]
    public private(set) var x0: Tensor
    private var text: TextContext
    private var rngs: [RNG]
    /// The student's weights packed once for the sampler's lifetime (it must not change meanwhile).
    private let weights = PackedWeightCache()

    public init(student: DistillStudent, normalizer: LatentNormalizer, prompts: [TextFeatures], seeds: [UInt64],
                steps: Int, chunk: Int = BatchInvariantForward.defaultChunk) throws {
        guard DistillConfig.sampleStepRange.contains(steps) else {
            throw MethodError.invalidInput(field: "steps", message: "a student samples with 1...4 steps, got \(steps)")
        }
        guard !prompts.isEmpty, prompts.count == seeds.count else {
            throw MethodError.invalidInput(field: "seeds", message: "need one seed per prompt (\(prompts.count) prompts, \(seeds.count) seeds)")
        }
        guard (1...256).contains(chunk) else { throw MethodError.invalidInput(field: "chunk", message: "must be in 1...256, got \(chunk)") }
        let mc = student.net.config
        self.student = student; self.normalizer = normalizer; self.steps = steps; self.chunk = chunk
        grid = FlowSchedule.grid(steps: steps, shift: mc.shift)
        rngs = seeds.map { RNG(seed: $0) }
        let per = mc.tokens * mc.latentChannels
        let noise = Tensor(uninitialized: [prompts.count, mc.tokens, mc.latentChannels])
        for i in 0..<prompts.count {
            let n = rngs[i].normal([per])
            (noise.ptr + i * per).update(from: n.ptr, count: per)
        }
        x = noise
        x0 = Tensor(zeros: noise.shape)
        text = TextContext(prompts, tokens: mc.textTokens, dim: mc.textDim)
    }

    public var totalSteps: Int { steps }
    public var isFinished: Bool { step >= steps }
    /// Noise level before the next step (0 once finished).
    public var t: Float { grid[min(step, steps)] }

    /// Advances one step; returns false once finished.
    @discardableResult
    public func next() -> Bool {
        guard !isFinished else { return false }
        let B = x.shape[0], t0 = grid[step], t1 = grid[step + 1]
        let per = x.count / B, x = self.x
        switch student.method {
        case .scm:
            let v = BatchInvariantForward.map(shape: x.shape, chunk: chunk, weights: weights) { idx in
                student.net(x.indexSelect(axis: 0, idx), t: Tensor.full([idx.count], t0), text: text.rows(idx))
            }
            let est = withNoGrad { (x - v * t0).detached() }
            x0 = est
            if t1 > 0 {
                let eps = Tensor(uninitialized: x.shape)
                for i in 0..<B { let n = rngs[i].normal([per]); (eps.ptr + i * per).update(from: n.ptr, count: per) }
                self.x = withNoGrad { (est * (1 - t1) + eps * t1).detached() }
            } else {
                self.x = est
            }
        case .meanflow:
            let u = BatchInvariantForward.map(shape: x.shape, chunk: chunk, weights: weights) { idx in
                student.meanVelocity(x.indexSelect(axis: 0, idx), r: Tensor.full([idx.count], t1), t: Tensor.full([idx.count], t0),
                                     text: text.rows(idx))
            }
            x0 = withNoGrad { (x - u * t0).detached() }
            self.x = withNoGrad { (x - u * (t0 - t1)).detached() }
        }
        step += 1
        if isFinished { x0 = self.x }
        return true
    }

    /// Runs every remaining step.
    public func run() { while next() {} }

    /// Keeps only the samples at `rows` (in that order), e.g. when a batched request leaves the
    /// batch; the others continue exactly as they would have (each keeps its own noise stream).
    public func retain(_ rows: [Int]) {
        precondition(!rows.isEmpty && rows.allSatisfy { (0..<x.shape[0]).contains($0) }, "StudentSampler.retain: rows \(rows) out of 0..<\(x.shape[0])")
        withNoGrad {
            x = x.indexSelect(axis: 0, rows).detached(); x0 = x0.indexSelect(axis: 0, rows).detached()
            text = text.rows(rows)
        }
        rngs = rows.map { rngs[$0] }
    }

    /// The current x0 estimate in the tokenizer's scale (the preview). [B, T, C]
    public var previewLatents: Tensor { normalizer.denormalize(x0) }
    /// Final (or current) latents in the tokenizer's scale. [B, T, C]
    public var latents: Tensor { normalizer.denormalize(x) }
}
