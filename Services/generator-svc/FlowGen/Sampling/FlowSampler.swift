import ComputeCore

/// ODE solver for the probability-flow from noise (t = 1) to data (t = 0).
public enum SamplerKind: String, Codable, Sendable, CaseIterable {
    /// First order: x ← x + (t_next - t)·v(x, t).
    case euler
    /// Second order (Heun's trapezoid, Karras et al. 2022 Alg. 1); the last step is Euler. Two
    /// model evaluations per step.
    case heun
}

/// What to sample: one prompt and one seed per image.
public struct SampleRequest: Sendable {
    public var prompts: [TextFeatures]
    public var seeds: [UInt64]
    public var steps: Int
    public var guidance: Float
    public var sampler: SamplerKind
    public init(prompts: [TextFeatures], seeds: [UInt64], steps: Int, guidance: Float, sampler: SamplerKind = .euler) {
        self.prompts = prompts; self.seeds = seeds; self.steps = steps; self.guidance = guidance; self.sampler = sampler
    }
}

/// Sampling as a step iterator: `next()` advances the ODE by one step on the shifted grid
/// (`FlowSchedule.grid`), with classifier-free guidance on every latent channel. Between steps a
/// caller can report progress, look at the x0 prediction (`previewLatents`) or stop (cancel).
/// Image i starts from noise drawn from its own seed and every op is per-sample with a fixed text
/// length, so an image does not depend on what else is in the batch.
public final class FlowSampler {
    public let model: FlowGenDiT
    public let normalizer: LatentNormalizer
    public private(set) var request: SampleRequest
    /// t values from 1 down to 0 (steps + 1 entries).
    public let grid: [Float]
    /// Completed steps.
    public private(set) var step = 0
    /// Current state x_t (normalised). [B, T, C]
    public private(set) var x: Tensor
    /// x0 predicted at the last evaluation (normalised). [B, T, C]
    public private(set) var x0: Tensor
    private var cond: TextContext
    private var uncond: TextContext
    /// The model's weights packed once for the sampler's lifetime (the model must not change meanwhile).
    private let weights = PackedWeightCache()

    /// Samples per model forward (see `velocity`); the bits do not depend on it.
    public let chunk: Int

    public init(model: FlowGenDiT, normalizer: LatentNormalizer, request: SampleRequest,
                chunk: Int = BatchInvariantForward.defaultChunk) throws {
        let mc = model.config
        guard !request.prompts.isEmpty, request.prompts.count == request.seeds.count else {
            throw MethodError.invalidInput(field: "seeds", message: "need one seed per prompt (\(request.prompts.count) prompts, \(request.seeds.count) seeds)")
        }
        guard request.steps >= 1 && request.steps <= 1000 else {
            throw MethodError.invalidInput(field: "steps", message: "must be in 1...1000, got \(request.steps)")
        }
        guard request.guidance >= 0 && request.guidance <= 20 else {
            throw MethodError.invalidInput(field: "guidance", message: "must be in 0...20, got \(request.guidance)")
        }
        guard chunk >= 1 && chunk <= 256 else { throw MethodError.invalidInput(field: "chunk", message: "must be in 1...256, got \(chunk)") }
        self.model = model; self.normalizer = normalizer; self.request = request; self.chunk = chunk
        grid = FlowSchedule.grid(steps: request.steps, shift: mc.shift)
        let B = request.prompts.count, per = mc.tokens * mc.latentChannels
        let noise = Tensor(uninitialized: [B, mc.tokens, mc.latentChannels])
        for (i, seed) in request.seeds.enumerated() {
            var rng = RNG(seed: seed)
            let n = rng.normal([per])
            (noise.ptr + i * per).update(from: n.ptr, count: per)
        }
        x = noise
        x0 = Tensor(zeros: noise.shape)
        cond = TextContext(request.prompts, tokens: mc.textTokens, dim: mc.textDim)
        uncond = withNoGrad { model.nullContext(batch: B, tokens: mc.textTokens) }.detachedCopy()
    }

    public var totalSteps: Int { request.steps }
    public var isFinished: Bool { step >= request.steps }
    /// Current noise level t.
    public var t: Float { grid[step] }

    /// Guided velocity at (x, t). [B, T, C]
    ///
    /// The model runs on chunks of up to `chunk` samples, conditional and unconditional halves
    /// stacked (`BatchInvariantForward`): a sample's result is bit-identical however many other
    /// prompts came with it.
    func velocity(_ x: Tensor, _ t: Float) -> Tensor {
        let w = request.guidance
        return BatchInvariantForward.map(shape: x.shape, chunk: chunk, weights: weights) { idx in
            let K = idx.count, xc = x.indexSelect(axis: 0, idx), cc = cond.rows(idx)
            if w == 1 { return model(xc, t: Tensor.full([K], t), text: cc) }
            let both = model(Tensor.concat([xc, xc], axis: 0), t: Tensor.full([2 * K], t),
                             text: TextContext.concat(cc, uncond.rows(idx)))
            let halves = both.split(axis: 0, sizes: [K, K])
            return FlowSchedule.guide(conditional: halves[0], unconditional: halves[1], scale: w)
        }
    }

    /// Advances one step; returns false once finished.
    @discardableResult
    public func next() -> Bool {
        guard !isFinished else { return false }
        let t0 = grid[step], t1 = grid[step + 1], dt = t1 - t0
        let v = velocity(x, t0)
        x0 = withNoGrad { (x - v * t0).detached() }
        var xn = withNoGrad { (x + v * dt).detached() }
        if request.sampler == .heun && t1 > 0 {
            let v2 = velocity(xn, t1)
            xn = withNoGrad { (x + (v + v2) * (dt / 2)).detached() }
        }
        x = xn
        step += 1
        if isFinished { x0 = x }
        return true
    }

    /// Keeps only the samples at `rows` (in that order), e.g. when a batched request leaves the
    /// batch; the others continue exactly as they would have.
    public func retain(_ rows: [Int]) {
        precondition(!rows.isEmpty && rows.allSatisfy { (0..<x.shape[0]).contains($0) }, "FlowSampler.retain: rows \(rows) out of 0..<\(x.shape[0])")
        withNoGrad {
            x = x.indexSelect(axis: 0, rows).detached(); x0 = x0.indexSelect(axis: 0, rows).detached()
            cond = cond.rows(rows).detachedCopy(); uncond = uncond.rows(rows).detachedCopy()
        }
        request.prompts = rows.map { request.prompts[$0] }; request.seeds = rows.map { request.seeds[$0] }
    }

    /// Runs every remaining step (`onStep` after each; return false to stop early).
    public func run(onStep: (FlowSampler) -> Bool = { _ in true }) {
        while next() { if !onStep(self) { return } }
    }

    /// The current x0 prediction in the tokenizer's scale (the preview). [B, T, C]
    public var previewLatents: Tensor { normalizer.denormalize(x0) }
    /// Final (or current) latents in the tokenizer's scale. [B, T, C]
    public var latents: Tensor { normalizer.denormalize(x) }
}

extension TextContext {
    /// A copy with no tape.
    func detachedCopy() -> TextContext { TextContext(context: context.copy(), padding: padding.copy()) }
}
