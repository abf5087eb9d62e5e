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
/// caller can report progress, look at the x0 prediction (`previewLatents`), stop (cancel), let
/// rows leave (`retain`) or let new rows join at step 0 (`append`: continuous batching; each row
/// keeps its own step, `rows`). Image i starts from noise drawn from its own seed and every op is
/// per-sample with a fixed text length, so an image does not depend on what else is in the batch
/// or when it joined.
public final class FlowSampler {
    public let model: FlowGenDiT
    public let normalizer: LatentNormalizer
    public private(set) var request: SampleRequest
    /// t values from 1 down to 0 (steps + 1 entries).
    public let grid: [Float]
    /// Completed steps of each row.
    public private(set) var rows: SamplerRows
    /// Current state x_t (normalised). [B, T, C]
    public private(set) var x: Tensor
    /// x0 predicted at the row's last evaluation (normalised; zeros before its first step). [B, T, C]
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
        try Self.validate(prompts: request.prompts, seeds: request.seeds)
        guard request.steps >= 1 && request.steps <= 1000 else {
            throw MethodError.invalidInput(field: "steps", message: "must be in 1...1000, got \(request.steps)")
        }
        guard request.guidance >= 0 && request.guidance <= 20 else {
            throw MethodError.invalidInput(field: "guidance", message: "must be in 0...20, got \(request.guidance)")
        }
        guard chunk >= 1 && chunk <= 256 else { throw MethodError.invalidInput(field: "chunk", message: "must be in 1...256, got \(chunk)") }
        self.model = model; self.normalizer = normalizer; self.request = request; self.chunk = chunk
        grid = FlowSchedule.grid(steps: request.steps, shift: mc.shift)
        rows = SamplerRows(totalSteps: request.steps, rows: request.prompts.count)
        x = Self.noise(seeds: request.seeds, tokens: mc.tokens, channels: mc.latentChannels)
        x0 = Tensor(zeros: x.shape)
        cond = TextContext(request.prompts, tokens: mc.textTokens, dim: mc.textDim)
        uncond = withNoGrad { model.nullContext(batch: request.prompts.count, tokens: mc.textTokens) }.detachedCopy()
    }

    private static func validate(prompts: [TextFeatures], seeds: [UInt64]) throws {
        guard !prompts.isEmpty, prompts.count == seeds.count else {
            throw MethodError.invalidInput(field: "seeds", message: "need one seed per prompt (\(prompts.count) prompts, \(seeds.count) seeds)")
        }
    }

    /// Initial noise, row i from seed i only. [B, T, C]
    static func noise(seeds: [UInt64], tokens: Int, channels: Int) -> Tensor {
        var streams = seeds.map { RNG(seed: $0) }
        return noise(streams: &streams, tokens: tokens, channels: channels)
    }

    /// Initial noise [B, tokens, channels]: row i drawn from `streams[i]` alone, which is left just
    /// past what it drew (a multistep sampler keeps drawing from it).
    public static func noise(streams: inout [RNG], tokens: Int, channels: Int) -> Tensor {
        let per = tokens * channels
        let noise = Tensor(uninitialized: [streams.count, tokens, channels])
        for i in streams.indices {
            let n = streams[i].normal([per])
            (noise.ptr + i * per).update(from: n.ptr, count: per)
        }
        return noise
    }

    public var totalSteps: Int { request.steps }
    /// Completed steps of the least advanced row.
    public var step: Int { rows.leastStep }
    public var isFinished: Bool { rows.isFinished }
    /// Noise level of the least advanced row before its next step (0 once finished).
    public var t: Float { grid[step] }

    /// Guided velocity of `x` ([L, T, C]) whose row j is sample `ids[j]` at noise level `ts[j]`. [L, T, C]
    ///
    /// The model runs on chunks of up to `chunk` samples, conditional and unconditional halves
    /// stacked (`BatchInvariantForward`): a sample's result is bit-identical however many other
    /// prompts came with it and whatever their noise levels.
    func velocity(_ x: Tensor, ts: [Float], ids: [Int]) -> Tensor {
        let w = request.guidance
        return BatchInvariantForward.map(shape: x.shape, chunk: chunk, weights: weights) { idx in
            let K = idx.count, rowsOf = idx.map { ids[$0] }
            let xc = x.indexSelect(axis: 0, idx), cc = cond.rows(rowsOf), tc = idx.map { ts[$0] }
            if w == 1 { return model(xc, t: Tensor(tc, shape: [K]), text: cc) }
            let both = model(Tensor.concat([xc, xc], axis: 0), t: Tensor(tc + tc, shape: [2 * K]),
                             text: TextContext.concat(cc, uncond.rows(rowsOf)))
            let halves = both.split(axis: 0, sizes: [K, K])
            return FlowSchedule.guide(conditional: halves[0], unconditional: halves[1], scale: w)
        }
    }

    /// Guided velocity of rows 0..<B at one noise level `t`. [B, T, C]
    func velocity(_ x: Tensor, _ t: Float) -> Tensor {
        velocity(x, ts: Array(repeating: t, count: x.shape[0]), ids: Array(0..<x.shape[0]))
    }

    /// Advances every unfinished row by one step; returns false once finished.
    ///
    /// One guided forward serves all unfinished rows (each at its own t); the update runs per
    /// group of rows at the same step with that step's scalars, exactly as for a batch of them alone.
    @discardableResult
    public func next() -> Bool {
        guard !isFinished else { return false }
        let live = rows.live, groups = rows.groups
        let ts = live.map { grid[rows.steps[$0]] }
        let xl = x.indexSelect(axis: 0, live)                                // [L, T, C]
        let v = velocity(xl, ts: ts, ids: live)                              // [L, T, C]
        var newX = x, newX0 = x0
        // Euler for every group; Heun's corrector for the rows whose next t is not 0, in one forward.
        var euler: [(group: SamplerRows.Group, xg: Tensor, vg: Tensor, xn: Tensor)] = []
        for g in groups {
            let t0 = grid[g.step], t1 = grid[g.step + 1], dt = t1 - t0
            let xg = xl.indexSelect(axis: 0, g.positions), vg = v.indexSelect(axis: 0, g.positions)   // [G, T, C]
            let x0g = withNoGrad { (xg - vg * t0).detached() }
            newX0 = newX0.scatter(axis: 0, g.positions.map { live[$0] }, x0g)
            euler.append((g, xg, vg, withNoGrad { (xg + vg * dt).detached() }))
        }
        let corrected = request.sampler == .heun ? euler.filter { grid[$0.group.step + 1] > 0 } : []
        var v2: Tensor?
        if !corrected.isEmpty {
            let ids = corrected.flatMap { $0.group.positions.map { live[$0] } }
            v2 = velocity(Tensor.concat(corrected.map(\.xn), axis: 0),
                          ts: corrected.flatMap { e in e.group.positions.map { _ in grid[e.group.step + 1] } }, ids: ids)
        }
        var offset = 0
        for (g, xg, vg, xnEuler) in euler {
            let t0 = grid[g.step], t1 = grid[g.step + 1], dt = t1 - t0
            let ids = g.positions.map { live[$0] }
            var xn = xnEuler
            if let v2, request.sampler == .heun && t1 > 0 {
                let v2g = v2.slice(axis: 0, offset, offset + ids.count)
                offset += ids.count
                xn = withNoGrad { (xg + (vg + v2g) * (dt / 2)).detached() }
            }
            newX = newX.scatter(axis: 0, ids, xn)
            if g.step + 1 == request.steps { newX0 = newX0.scatter(axis: 0, ids, xn) }
        }
        x = newX; x0 = newX0
        rows.advance()
        return true
    }

    /// Adds one image per (prompt, seed) at step 0 (continuous batching: requests join a running
    /// batch at a step boundary); they take the same grid as the rows already here.
    public func append(prompts: [TextFeatures], seeds: [UInt64]) throws {
        try Self.validate(prompts: prompts, seeds: seeds)
        let mc = model.config
        withNoGrad {
            let n = Self.noise(seeds: seeds, tokens: mc.tokens, channels: mc.latentChannels)
            x = Tensor.concat([x, n], axis: 0).detached()
            x0 = Tensor.concat([x0, Tensor(zeros: n.shape)], axis: 0).detached()
            cond = TextContext.concat(cond, TextContext(prompts, tokens: mc.textTokens, dim: mc.textDim)).detachedCopy()
            uncond = TextContext.concat(uncond, model.nullContext(batch: prompts.count, tokens: mc.textTokens)).detachedCopy()
        }
        request.prompts += prompts; request.seeds += seeds
        rows.append(prompts.count)
    }

    /// Keeps only the samples at `rows` (in that order), e.g. when a batched request leaves the
    /// batch; the others continue exactly as they would have.
    public func retain(_ keep: [Int]) {
        precondition(!keep.isEmpty && keep.allSatisfy { (0..<x.shape[0]).contains($0) }, "FlowSampler.retain: rows \(keep) out of 0..<\(x.shape[0])")
        withNoGrad {
            x = x.indexSelect(axis: 0, keep).detached(); x0 = x0.indexSelect(axis: 0, keep).detached()
            cond = cond.rows(keep).detachedCopy(); uncond = uncond.rows(keep).detachedCopy()
        }
        request.prompts = keep.map { request.prompts[$0] }; request.seeds = keep.map { request.seeds[$0] }
        rows.retain(keep)
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
