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
    /// Completed steps of each row (rows may join later at step 0: `append`).
    public private(set) var rows: SamplerRows
    /// Current state (normalised). [B, T, C]
    public private(set) var x: Tensor
    /// The x0 estimate of the row's last step (normalised): sCM's consistency output, MeanFlow's
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
        guard (1...256).contains(chunk) else { throw MethodError.invalidInput(field: "chunk", message: "must be in 1...256, got \(chunk)") }
        let mc = student.net.config
        self.student = student; self.normalizer = normalizer; self.steps = steps; self.chunk = chunk
        grid = FlowSchedule.grid(steps: steps, shift: mc.shift)
        rows = SamplerRows(totalSteps: steps, rows: 0)
        rngs = []
        x = Tensor(zeros: [1]); x0 = x                                     // replaced by append
        text = TextContext([], tokens: 0, dim: 0)
        try append(prompts: prompts, seeds: seeds)
    }

    public var totalSteps: Int { steps }
    /// Completed steps of the least advanced row.
    public var step: Int { rows.leastStep }
    public var isFinished: Bool { rows.isFinished }
    /// Noise level of the least advanced row before its next step (0 once finished).
    public var t: Float { grid[min(step, steps)] }

    /// Advances every unfinished row by one step; returns false once finished. One forward serves
    /// all unfinished rows (each at its own t); the update runs per group of rows at the same step.
    @discardableResult
    public func next() -> Bool {
        guard !isFinished else { return false }
        let live = rows.live, groups = rows.groups
        let per = x.count / max(x.shape[0], 1)
        let xl = x.indexSelect(axis: 0, live)                                 // [L, T, C]
        let t0s = live.map { grid[rows.steps[$0]] }, t1s = live.map { grid[rows.steps[$0] + 1] }
        let out = BatchInvariantForward.map(shape: xl.shape, chunk: chunk, weights: weights) { idx in
            let xc = xl.indexSelect(axis: 0, idx), tc = text.rows(idx.map { live[$0] }), K = idx.count
            let t0 = Tensor(idx.map { t0s[$0] }, shape: [K])
            switch student.method {
            case .scm: return student.net(xc, t: t0, text: tc)
            case .meanflow: return student.meanVelocity(xc, r: Tensor(idx.map { t1s[$0] }, shape: [K]), t: t0, text: tc)
            }
        }
        var newX = x, newX0 = x0
        for g in groups {
            let t0 = grid[g.step], t1 = grid[g.step + 1], ids = g.positions.map { live[$0] }
            let xg = xl.indexSelect(axis: 0, g.positions), og = out.indexSelect(axis: 0, g.positions)
            var est: Tensor, xn: Tensor
            switch student.method {
            case .scm:
                est = withNoGrad { (xg - og * t0).detached() }
                if t1 > 0 {
                    let eps = Tensor(uninitialized: xg.shape)
                    for (k, r) in ids.enumerated() { let n = rngs[r].normal([per]); (eps.ptr + k * per).update(from: n.ptr, count: per) }
                    xn = withNoGrad { (est * (1 - t1) + eps * t1).detached() }
                } else {
                    xn = est
                }
            case .meanflow:
                est = withNoGrad { (xg - og * t0).detached() }
                xn = withNoGrad { (xg - og * (t0 - t1)).detached() }
            }
            if g.step + 1 == steps { est = xn }
            newX = newX.scatter(axis: 0, ids, xn); newX0 = newX0.scatter(axis: 0, ids, est)
        }
        x = newX; x0 = newX0
        rows.advance()
        return true
    }

    /// Runs every remaining step.
    public func run() { while next() {} }

    /// Adds one image per (prompt, seed) at step 0 (a request joining a running batch at a step
    /// boundary); each draws its noise from its own seed only.
    public func append(prompts: [TextFeatures], seeds: [UInt64]) throws {
        guard !prompts.isEmpty, prompts.count == seeds.count else {
            throw MethodError.invalidInput(field: "seeds", message: "need one seed per prompt (\(prompts.count) prompts, \(seeds.count) seeds)")
        }
        let mc = student.net.config
        var streams = seeds.map { RNG(seed: $0) }
        let noise = FlowSampler.noise(streams: &streams, tokens: mc.tokens, channels: mc.latentChannels)   // [B, T, C]
        let fresh = TextContext(prompts, tokens: mc.textTokens, dim: mc.textDim)
        if rows.count == 0 {
            x = noise; x0 = Tensor(zeros: noise.shape); text = fresh
        } else {
            withNoGrad {
                x = Tensor.concat([x, noise], axis: 0).detached()
                x0 = Tensor.concat([x0, Tensor(zeros: noise.shape)], axis: 0).detached()
                text = TextContext.concat(text, fresh)
            }
        }
        rngs += streams
        rows.append(prompts.count)
    }

    /// Keeps only the samples at `rows` (in that order), e.g. when a batched request leaves the
    /// batch; the others continue exactly as they would have (each keeps its own noise stream).
    public func retain(_ keep: [Int]) {
        precondition(!keep.isEmpty && keep.allSatisfy { (0..<x.shape[0]).contains($0) }, "StudentSampler.retain: rows \(keep) out of 0..<\(x.shape[0])")
        withNoGrad {
            x = x.indexSelect(axis: 0, keep).detached(); x0 = x0.indexSelect(axis: 0, keep).detached()
            text = text.rows(keep)
        }
        rngs = keep.map { rngs[$0] }
        rows.retain(keep)
    }

    /// The current x0 estimate in the tokenizer's scale (the preview). [B, T, C]
    public var previewLatents: Tensor { normalizer.denormalize(x0) }
    /// Final (or current) latents in the tokenizer's scale. [B, T, C]
    public var latents: Tensor { normalizer.denormalize(x) }
}
