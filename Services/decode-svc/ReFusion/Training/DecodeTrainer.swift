import ComputeCore

/// How one decode model is trained.
public struct TrainingSetup: Sendable, Equatable {
    public var objective: DecodeMode
    public var steps: Int
    public var batchSize: Int
    public var learningRate: Float
    public var warmupSteps: Int
    public var seed: UInt64
    /// ReFusion slot sizes k sampled per example (paper: {4, 8, 16, 32}; small scale: {2, 4, 8}).
    public var slotSizes: [Int]
    /// Share of text examples in a batch (the rest is arithmetic).
    public var textShare: Double
    /// ReFusion: label slot boundaries (see `ReFusionInputBuilder`); false = the paper's labels exactly.
    public var boundaryLabels = true
    /// ReFusion: share of a batch's examples given as plain causal-LM sequences (`ARInputBuilder`:
    /// in order, every response token supervised) instead of the hybrid input. The hybrid input
    /// trains next-token prediction only inside clean slots in a random physical order, while
    /// its masked term (weight 1/(p |response|) per token) dominates the gradient, so the
    /// AR-initialised model forgets in-order AR decoding. A tiny-model comparison (session 7, 250
    /// ReFusion steps from a 500-step AR model, 100 held-out 2-digit additions, one seed; AR decoding
    /// accuracy): AR model 26 %, paper's recipe 1 %, + boundary labels 4 %, + share 0.25 7 %, + share
    /// 0.5 15 %. The report's ablation (paper recipe vs default) measures it at full size. 0 = the
    /// paper's recipe exactly.
    public var causalLMShare: Double = TrainingSetup.defaultCausalLMShare
    /// The default `causalLMShare` (see `causalLMShare`).
    public static let defaultCausalLMShare = 0.5

    public init(objective: DecodeMode, steps: Int, batchSize: Int = 32, learningRate: Float = 2e-3,
                warmupSteps: Int = 50, seed: UInt64 = 1, slotSizes: [Int] = [2, 4, 8], textShare: Double = 0.3) {
        self.objective = objective; self.steps = steps; self.batchSize = batchSize; self.learningRate = learningRate
        self.warmupSteps = warmupSteps; self.seed = seed; self.slotSizes = slotSizes; self.textShare = textShare
    }
}

/// Trains one decode model step by step (so callers report progress and honour
/// cancellation between steps): AR next-token loss, the LLaDA masked-diffusion loss, or
/// ReFusion's hybrid loss (METHODS.md §5) starting from an AR model's weights.
public final class DecodeTrainer {
    public let model: TransformerLM
    public let setup: TrainingSetup
    public let data: DecodeDataset
    public internal(set) var step = 0
    /// Training compute so far: 6 x parameters x tokens per optimiser step (forward and backward,
    /// attention's quadratic term ignored) plus 2 x parameters x tokens per held-out forward.
    public internal(set) var flops = 0.0
    let optimizer: AdamW
    private let schedule: CosineSchedule
    var rng: SeededRandom

    /// `initial` (for ReFusion: the trained AR model) is copied; otherwise weights are fresh.
    public init(config: TransformerConfig, setup: TrainingSetup, data: DecodeDataset, initial: TransformerLM? = nil) {
        var c = config
        c.causal = setup.objective != .mdm
        model = initial?.copy(causal: c.causal) ?? TransformerLM(c, seed: setup.seed)
        self.setup = setup; self.data = data
        optimizer = AdamW(model.parameters(), lr: setup.learningRate, weightDecay: 0.01)
        schedule = CosineSchedule(baseLR: setup.learningRate, warmupSteps: min(setup.warmupSteps, setup.steps / 4),
                                  totalSteps: setup.steps, minLR: setup.learningRate / 10)
        rng = SeededRandom(seed: setup.seed &* 0x9E37 &+ UInt64(setup.objective.hashValueStable))
    }

    /// The input of one example under this trainer's objective (ReFusion: a plain causal-LM
    /// sequence with probability `causalLMShare`).
    public func input(_ ex: SequenceExample, rng: inout SeededRandom) -> TrainingSequence {
        switch setup.objective {
        case .ar: return ARInputBuilder.build(ex)
        case .refusion where setup.causalLMShare > 0 && rng.uniform() < setup.causalLMShare: return ARInputBuilder.build(ex)
        case .mdm:
            return MDMInputBuilder.sample(ex, totalLength: ex.prompt.count + data.responseBudget(ex.task), rng: &rng)
        case .refusion: return ReFusionInputBuilder.sample(ex, slotSizes: setup.slotSizes, boundaryLabels: setup.boundaryLabels, rng: &rng)
        }
    }

    /// The loss of `seqs` as one batch (MDM: padded keys masked out) and its token count.
    func batchLoss(_ seqs: [TrainingSequence]) -> (loss: Tensor, tokens: Int) {
        let batch = TrainingBatch(seqs)
        var padding: Tensor?
        if setup.objective == .mdm {
            let p = Tensor(zeros: [batch.batch, batch.length])
            for (b, s) in seqs.enumerated() { for t in 0..<s.count { p.ptr[b * batch.length + t] = 1 } }
            padding = p
        }
        return (model.loss(batch, keyPadding: padding), batch.batch * batch.length)
    }

    /// The fixed held-out inputs of `examples` under this trainer's objective: masks, slot sizes
    /// and permutations drawn once from `seed`, so successive `heldOutLoss` calls are comparable.
    public func heldOutInputs(_ examples: [SequenceExample], seed: UInt64 = 0x4E1D) -> [TrainingSequence] {
        var r = SeededRandom(seed: seed)
        return examples.map { input($0, rng: &r) }
    }

    /// Mean per-sequence loss of `inputs` (no optimiser step), in batches of the training batch size.
    public func heldOutLoss(_ inputs: [TrainingSequence]) -> Double {
        precondition(!inputs.isEmpty, "heldOutLoss needs at least one held-out sequence")
        var total = 0.0
        for start in stride(from: 0, to: inputs.count, by: setup.batchSize) {
            let chunk = Array(inputs[start..<min(start + setup.batchSize, inputs.count)])
            let (loss, tokens) = batchLoss(chunk)
            total += Double(loss.item) * Double(chunk.count)
            flops += 2 * Double(model.parameterCount) * Double(tokens)
        }
        return total / Double(inputs.count)
    }

    /// One optimiser step on a fresh batch; returns the batch loss.
    @discardableResult
    public func trainStep() -> Double {
        let seqs = (0..<setup.batchSize).map { _ in input(data.sample(textShare: setup.textShare, rng: &rng), rng: &rng) }
        optimizer.lr = schedule.lr(at: step)
        model.zeroGrad()
        let (loss, tokens) = batchLoss(seqs)
        flops += 6 * Double(model.parameterCount) * Double(tokens)
        loss.backward()
        _ = Gradients.clipNorm(model.parameters(), maxNorm: 1)
        optimizer.step()
        step += 1
        return Double(loss.item)
    }
}

extension DecodeMode {
    /// A hash stable across processes (Swift's `hashValue` is randomly seeded).
    var hashValueStable: Int {
        switch self { case .ar: return 1; case .mdm: return 2; case .refusion: return 3 }
    }
}
