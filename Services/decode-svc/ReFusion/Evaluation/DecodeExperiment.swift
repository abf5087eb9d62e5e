import ComputeCore
import Evaluation
import Foundation

/// The side-by-side experiment behind `meshctl report decode`: for each model kind (AR, masked
/// diffusion of the same size on the same data, ReFusion initialised from the AR model of its
/// seed) a small learning-rate sweep picks the rate with the lowest held-out loss, then every
/// seed trains at that rate until held-out loss stops improving (`PlateauTraining`); each
/// seed's models are evaluated on every task, along accuracy-throughput curves over the
/// decoders' thresholds and over ReFusion's slot size. Models and measurements are cached by
/// recipe (`DecodeModelCache`), so a rerun resumes.
public struct DecodeExperiment {
    public struct Plan: Sendable, Equatable {
        public var name = "custom"
        public var modelPreset: String
        public var maxDigits: Int
        /// Step caps of the seed runs (training stops earlier when held-out loss plateaus).
        public var arSteps: Int
        public var mdmSteps: Int
        public var refusionSteps: Int
        public var batchSize: Int
        /// The learning rate of fixed-step training (`train(_:steps:initial:)`, mesh-bench).
        public var learningRate: Float
        public var arithmeticTestCount: Int
        public var textTestCount: Int
        public var parameters: DecodeParameters
        public var slotSweep: [Int]
        public var thresholdSweep: [Float]
        /// The data seed (splits and training examples).
        public var seed: UInt64
        /// Longer exact-match tasks trained and evaluated beside the arithmetic (`.longAddition`, `.sorting`).
        public var extraTasks: [SequenceExample.Task] = []
        /// The text corpus: `fortunes-min` or the Debian package `fortunes` (`.full`).
        public var corpus: FortuneCorpus.Source = .min
        /// Training examples generated per exact-match task (arithmetic and each extra task).
        public var trainExamplesPerTask = 20_000
        /// Training seeds (initialisation and batch order); every model kind trains once per seed.
        public var seeds: [UInt64] = [1, 2, 3]
        /// The learning rates swept per model kind (first seed, `sweepSteps` steps); one value skips the sweep.
        public var learningRates: [Float] = [1e-3, 2e-3, 4e-3]
        /// Step cap of a sweep run.
        public var sweepSteps = 400
        /// Held-out loss every `evalEvery` steps; stop after `patience` evaluations without improvement.
        public var evalEvery = 100
        public var patience = 3
        /// Held-out examples per task for early stopping and the sweep (`DecodeDataset.validation`).
        public var validationCount = 64
        /// ReFusion's `TrainingSetup.causalLMShare`.
        public var causalLMShare = TrainingSetup.defaultCausalLMShare
        /// Whether the report keeps its models' weights beside its ledger (`models/`, committed), not
        /// only in the disk cache: for a plan whose training spans sessions, so that a fresh machine
        /// continues from the last commit instead of retraining (`DecodeModelCache.weightStore`).
        public var keepsWeights = false
    }

    /// One trained model of the experiment. Its weights are in memory when it was trained or
    /// loaded in this run; when only its record came from the ledger, `model` loads them from the
    /// disk cache or retrains them (the same recipe) the first time a measurement needs them.
    public struct TrainedModel {
        /// The cache name (`DecodeModelCache`: kind prefix + recipe hash).
        public let name: String
        /// How the weights were trained. For a model known by its ledger record, the record of the
        /// run that made its weights once they are made (a retrain on another machine can take
        /// another path; `DecodeModelCache.reconcile`).
        public var record: TrainingRecord { weights.record }
        public var kind: String { record.kind }
        public var seed: UInt64 { record.seed }
        private let weights: Weights

        /// Materialises weights: (log, shouldStop) -> (model, the record of its training).
        public typealias Materialize = (_ log: (String) -> Void, _ shouldStop: () throws -> Void) throws -> (TransformerLM, TrainingRecord)

        final class Weights {
            var model: TransformerLM?
            var record: TrainingRecord
            let materialize: Materialize?
            init(model: TransformerLM?, record: TrainingRecord, materialize: Materialize?) {
                self.model = model; self.record = record; self.materialize = materialize
            }
        }

        public init(name: String, model: TransformerLM, record: TrainingRecord) {
            self.name = name; weights = Weights(model: model, record: record, materialize: nil)
        }

        /// A model known by its record only; `materialize` makes its weights on first use.
        public init(name: String, record: TrainingRecord, materialize: @escaping Materialize) {
            self.name = name; weights = Weights(model: nil, record: record, materialize: materialize)
        }

        /// Whether the weights are in memory (trained or loaded in this run).
        public var isMaterialized: Bool { weights.model != nil }

        /// The weights, materialised on first use.
        public func model(log: (String) -> Void = { _ in }, shouldStop: () throws -> Void = {}) throws -> TransformerLM {
            if let m = weights.model { return m }
            let (m, r) = try weights.materialize!(log, shouldStop)
            weights.model = m
            weights.record = r
            return m
        }
    }

    /// One learning-rate sweep run.
    public struct SweepRun: Sendable, Codable, Equatable {
        public var kind: String
        public var learningRate: Float
        public var heldOutLoss: Double
        public var stepsTrained: Int
    }

    /// One point of an accuracy-throughput curve: `decoder` at threshold `threshold` (tau_slot = tau_token).
    public struct CurvePoint: Sendable, Codable, Equatable {
        public var decoder: String
        public var threshold: Float
        public var result: EvaluationResult
    }

    /// Everything measured on one seed's models.
    public struct SeedRun: Sendable, Codable, Equatable {
        public var seed: UInt64
        public var main: [EvaluationResult]
        /// Every exact-match task (the result's `task`), per decoder and threshold.
        public var curves: [CurvePoint]
        /// ReFusion on arithmetic per slot size k.
        public var slotSweep: [SlotPoint]
        /// Text samples per decoder: (prompt, generation) pairs.
        public var textSamples: [String: [[String]]]
    }

    public struct SlotPoint: Sendable, Codable, Equatable {
        public var k: Int
        public var blockSize: Int
        public var result: EvaluationResult
    }

    public struct Outcome {
        public var plan: Plan
        public var models: [TrainedModel]
        public var sweep: [SweepRun]
        /// The learning rate chosen per kind (`ar`, `mdm`, `refusion`).
        public var chosenLearningRate: [String: Float]
        public var runs: [SeedRun]
        public var data: DecodeDataset
        public var trainingSeconds: Double
        public var evaluationSeconds: Double
        /// Models and measurement sets reused from the cache or ledger / computed in this run.
        public var cacheReused = 0
        public var cacheComputed = 0
        /// Commits of the runs that measured what the report shows (`ReportLedger.commits`): several
        /// when it was assembled from its ledger across sessions.
        public var measuredAt: [String] = []
    }

    public let plan: Plan
    public let data: DecodeDataset
    /// The cache; nil directory: nothing is stored.
    public let cache: DecodeModelCache
    /// The ablation: ReFusion trained with the paper's recipe exactly (paper labels, no causal-LM share), first seed.
    public static let paperRecipeModel = "refusion-paper"
    public static let paperRecipeARDecoding = "ReFusion model (paper's recipe), AR decoding"
    /// Decoder names of the main table.
    public static let arDecoder = "AR (KV cache)", mdmDecoder = "MDM (LLaDA-style)", refusionDecoder = "ReFusion"
    public static let draftKeepingDecoder = "ReFusion, draft-keeping II-b", refusionARDecoder = "ReFusion model, AR decoding"

    /// - ledger: the report's committed ledger (training records and measurement sets kept across
    ///   machines); `provenance` is recorded with what this run adds to it. With `plan.keepsWeights`,
    ///   weights and the training snapshot are kept in `models/` beside it.
    public init(plan: Plan, data: DecodeDataset, cacheDirectory: URL? = nil, ledger: ReportLedger? = nil,
                provenance: [String: String] = [:]) {
        self.plan = plan; self.data = data
        // the weight store sits beside the ledger: `decode-long/models/` next to `decode-long/ledger/`
        let store = plan.keepsWeights ? ledger?.directory.deletingLastPathComponent().appendingPathComponent("models") : nil
        cache = DecodeModelCache(directory: cacheDirectory, ledger: ledger, weightStore: store, provenance: provenance)
    }

    public static func standardData(plan: Plan, corpusDirectory: String = FortuneCorpus.defaultDirectory) throws
        -> DecodeDataset {
        try DecodeDataset.standard(seed: plan.seed, arithmeticTrainCount: plan.trainExamplesPerTask,
                                   arithmeticTestCount: plan.arithmeticTestCount, maxDigits: plan.maxDigits,
                                   corpusDirectory: corpusDirectory, corpus: plan.corpus, extraTasks: plan.extraTasks,
                                   extraTrainCount: plan.trainExamplesPerTask, validationCount: plan.validationCount,
                                   textTestCount: plan.textTestCount)
    }

    /// Every model of the plan: per kind the sweep and one model per seed (ReFusion from its seed's AR
    /// model), and the paper-recipe ablation (first seed). Models whose records are in the ledger stay
    /// unmaterialised until a measurement needs their weights.
    struct Models {
        var sweep: [SweepRun] = [], chosen: [String: Float] = [:], all: [TrainedModel] = []
        var ar: [TrainedModel] = [], mdm: [TrainedModel] = [], refusion: [TrainedModel] = []
        var paper: TrainedModel!
    }

    /// Trains (or finds in the cache and ledger) every model of the plan, in order: AR, MDM, ReFusion, the ablation.
    func trainModels(log: (String) -> Void, shouldStop: () throws -> Void) throws -> Models {
        precondition(!plan.seeds.isEmpty && !plan.learningRates.isEmpty, "a plan needs seeds and learning rates")
        var m = Models()
        func train(_ mode: DecodeMode, initial: (Int) -> TrainedModel?) throws -> [TrainedModel] {
            let (lr, runs) = try sweepLearningRate(mode, initial: initial(0), log: log, shouldStop: shouldStop)
            m.sweep += runs; m.chosen[mode.rawValue] = lr
            let trained = try plan.seeds.indices.map { i in
                try trainSeed(mode, seed: plan.seeds[i], learningRate: lr, initial: initial(i), log: log, shouldStop: shouldStop)
            }
            m.all += trained
            return trained
        }
        m.ar = try train(.ar) { _ in nil }
        m.mdm = try train(.mdm) { _ in nil }
        let ar = m.ar
        m.refusion = try train(.refusion) { ar[$0] }
        m.paper = try trainSeed(.refusion, seed: plan.seeds[0], learningRate: m.chosen["refusion"]!, initial: ar[0],
                                paperRecipe: true, log: log, shouldStop: shouldStop)
        m.all.append(m.paper)
        return m
    }

    /// The whole experiment. `log` receives one line per stage and per held-out evaluation.
    public func run(log: (String) -> Void = { _ in }, shouldStop: () throws -> Void = {}) throws -> Outcome {
        let t0 = Date()
        let m = try trainModels(log: log, shouldStop: shouldStop)
        let trainingSeconds = Date().timeIntervalSince(t0)

        let t1 = Date()
        let runs = try evaluate(m, seeds: plan.seeds, log: log)
        return Outcome(plan: plan, models: m.all, sweep: m.sweep, chosenLearningRate: m.chosen, runs: runs, data: data,
                       trainingSeconds: trainingSeconds, evaluationSeconds: Date().timeIntervalSince(t1),
                       cacheReused: cache.reused, cacheComputed: cache.computed, measuredAt: ReportLedger.commits(cache.measuredBy))
    }

    /// Training only: makes the weights of `seeds`' AR, MDM and ReFusion models (loads them, continues
    /// their snapshots or trains them, storing each like `run` does) and measures nothing. A second
    /// process can so train later seeds' models beside a run that measures earlier ones; that run then
    /// loads them from the weight store. The training phase comes first, as in `run`: a model with no
    /// ledger record is trained there whatever its seed (so the seeds choose among models known by
    /// their ledger records only, as on a fresh machine). Returns the models made, in training order.
    ///
    /// - kinds: only these model kinds (`ar`, `mdm`, `refusion`) of `seeds`; nil: all three. Two
    ///   processes can so split one seed's models (a ReFusion model loads its seed's AR model, or
    ///   trains it when it is not stored yet).
    public func prepare(seeds: [UInt64], kinds: [String]? = nil, log: (String) -> Void = { _ in },
                        shouldStop: () throws -> Void = {}) throws -> [TrainedModel] {
        try checkSeeds(seeds)
        if let unknown = kinds?.first(where: { !Self.seedModelKinds.contains($0) }) {
            throw DecodeModelCache.CacheError(description: "model kind '\(unknown)' is not one of \(Self.seedModelKinds.joined(separator: ", "))")
        }
        let m = try trainModels(log: log, shouldStop: shouldStop)
        var made: [TrainedModel] = []
        for i in plan.seeds.indices where seeds.contains(plan.seeds[i]) {
            for model in [m.ar[i], m.mdm[i], m.refusion[i]] where kinds?.contains(model.kind) ?? true {
                _ = try model.model(log: log, shouldStop: shouldStop)
                log("ready: \(model.kind) seed \(model.seed) (\(model.name))")
                made.append(model)
            }
        }
        return made
    }

    /// Measurement only: the measurement sets of `seeds` (measured, or read from the cache and
    /// ledger), stored like `run` stores them; no report. A process can so measure the seeds whose
    /// models are ready while another still trains a later seed's; the full run then reuses the sets.
    public func measure(seeds: [UInt64], log: (String) -> Void = { _ in }, shouldStop: () throws -> Void = {}) throws -> [SeedRun] {
        try checkSeeds(seeds)
        return try evaluate(try trainModels(log: log, shouldStop: shouldStop), seeds: seeds, log: log)
    }

    /// The measurement sets of `seeds`' models, in the plan's seed order (the ablation's row with the first seed).
    private func evaluate(_ m: Models, seeds: [UInt64], log: (String) -> Void) throws -> [SeedRun] {
        try plan.seeds.indices.filter { seeds.contains(plan.seeds[$0]) }.map { i in
            try evaluateSeed(ar: m.ar[i], mdm: m.mdm[i], refusion: m.refusion[i], paperRecipe: i == 0 ? m.paper : nil, log: log)
        }
    }

    /// The kinds trained once per seed.
    public static let seedModelKinds = [DecodeMode.ar.rawValue, DecodeMode.mdm.rawValue, DecodeMode.refusion.rawValue]

    private func checkSeeds(_ seeds: [UInt64]) throws {
        if let missing = seeds.first(where: { !plan.seeds.contains($0) }) {
            throw DecodeModelCache.CacheError(description: "seed \(missing) is not a seed of plan '\(plan.name)' (seeds \(plan.seeds.map(String.init).joined(separator: ", ")))")
        }
    }
}
