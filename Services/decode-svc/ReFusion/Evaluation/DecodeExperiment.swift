import ComputeCore
import Foundation

/// The side-by-side experiment behind `meshctl report decode`: trains an AR model, a
/// masked-diffusion model of the same size on the same data, and a ReFusion model
/// initialised from the AR model; evaluates all three decoders on the held-out arithmetic
/// task and the text corpus; sweeps ReFusion's slot size and thresholds.
public struct DecodeExperiment {
    public struct Plan: Sendable, Equatable {
        public var name = "custom"
        public var modelPreset: String
        public var maxDigits: Int
        public var arSteps: Int
        public var mdmSteps: Int
        public var refusionSteps: Int
        public var batchSize: Int
        public var learningRate: Float
        public var arithmeticTestCount: Int
        public var textTestCount: Int
        public var parameters: DecodeParameters
        public var slotSweep: [Int]
        public var thresholdSweep: [Float]
        public var seed: UInt64
        /// Longer exact-match tasks trained and evaluated beside the arithmetic (`.longAddition`, `.sorting`).
        public var extraTasks: [SequenceExample.Task] = []
        /// The text corpus: `fortunes-min` or the Debian package `fortunes` (`.full`).
        public var corpus: FortuneCorpus.Source = .min
        /// Training examples generated per exact-match task (arithmetic and each extra task).
        public var trainExamplesPerTask = 20_000

        /// `quick` (seconds; for tests), `standard` (the committed report, ~15 min on 2 cores),
        /// `long` (`standard` plus long addition and sorting, 64-128-token responses, on the full
        /// fortunes corpus with the `base` model, ~1.3 M parameters). Not yet run: scaling the
        /// standard plan's measured 22 ms per step by parameters (x8), mean sequence length (x2.3)
        /// and batch (x1.3) gives ~0.55 s per step, ~2.3 h for its 15,000 steps on 2 cores (an
        /// estimate, not a measurement); the step counts are a starting point, not tuned.
        public static func named(_ name: String) -> Plan? {
            var plan: Plan
            switch name {
            case "quick":
                plan = Plan(modelPreset: "tiny", maxDigits: 2, arSteps: 20, mdmSteps: 20, refusionSteps: 10, batchSize: 8,
                            learningRate: 3e-3, arithmeticTestCount: 6, textTestCount: 3,
                            parameters: DecodeParameters(maxTokens: 32, slotSize: 4, blockSize: 8, slotThreshold: 0.5,
                                                         tokenThreshold: 0.7),
                            slotSweep: [2, 4], thresholdSweep: [0.5, 0.9], seed: 1)
            case "standard":
                plan = Plan(modelPreset: "small", maxDigits: 2, arSteps: 1200, mdmSteps: 2400, refusionSteps: 2400,
                            batchSize: 24, learningRate: 2e-3, arithmeticTestCount: 200, textTestCount: 40,
                            parameters: DecodeParameters(maxTokens: 32, slotSize: 4, blockSize: 8, slotThreshold: 0.5,
                                                         tokenThreshold: 0.7),
                            slotSweep: [1, 2, 4, 8], thresholdSweep: [0.3, 0.5, 0.7, 0.9], seed: 1)
            case "long":
                plan = Plan(modelPreset: "base", maxDigits: 2, arSteps: 3000, mdmSteps: 6000, refusionSteps: 3000,
                            batchSize: 32, learningRate: 1e-3, arithmeticTestCount: 200, textTestCount: 100,
                            parameters: DecodeParameters(maxTokens: 128, slotSize: 4, blockSize: 16, slotThreshold: 0.5,
                                                         tokenThreshold: 0.7),
                            slotSweep: [2, 4, 8], thresholdSweep: [0.3, 0.5, 0.7, 0.9], seed: 1,
                            extraTasks: [.longAddition, .sorting], corpus: .full)
            default: return nil
            }
            plan.name = name
            return plan
        }
        public static let names = ["quick", "standard", "long"]
    }

    public struct TrainedModel {
        public let name: String
        public let model: TransformerLM
        public let steps: Int
        public let finalLoss: Double
        public let seconds: Double
    }

    public struct Outcome {
        public var plan: Plan
        public var models: [TrainedModel]
        public var main: [EvaluationResult]
        public var slotSweep: [(k: Int, result: EvaluationResult)]
        public var thresholdSweep: [(tau: Float, result: EvaluationResult)]
        public var mdmThresholdSweep: [(tau: Float, result: EvaluationResult)]
        public var textSamples: [String: [(String, String)]]
        public var data: DecodeDataset
        public var trainingSeconds: Double
        public var evaluationSeconds: Double
    }

    public let plan: Plan
    public let data: DecodeDataset
    /// The ablation: ReFusion trained with the paper's labels (no slot-boundary labels).
    public static let paperLabelsModel = "refusion-paper-labels"
    public static let paperLabelsARDecoding = "ReFusion model (paper labels), AR decoding"

    public init(plan: Plan, data: DecodeDataset) { self.plan = plan; self.data = data }

    public static func standardData(plan: Plan, corpusDirectory: String = FortuneCorpus.defaultDirectory) throws
        -> DecodeDataset {
        try DecodeDataset.standard(seed: plan.seed, arithmeticTrainCount: plan.trainExamplesPerTask,
                                   arithmeticTestCount: plan.arithmeticTestCount, maxDigits: plan.maxDigits,
                                   corpusDirectory: corpusDirectory, corpus: plan.corpus, extraTasks: plan.extraTasks,
                                   extraTrainCount: plan.trainExamplesPerTask)
    }

    /// Trains one model, reporting `(step, total, loss)` every `every` steps; `shouldStop` is checked between steps.
    /// `boundaryLabels` (ReFusion only): false trains with the paper's labels exactly (the ablation).
    public func train(_ mode: DecodeMode, steps: Int, initial: TransformerLM? = nil, name: String? = nil,
                      boundaryLabels: Bool = true, every: Int = 25,
                      shouldStop: () throws -> Void = {},
                      progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws -> TrainedModel {
        let config = TransformerConfig.preset(plan.modelPreset)!
        var setup = TrainingSetup(objective: mode, steps: steps, batchSize: plan.batchSize,
                                  learningRate: initial == nil ? plan.learningRate : plan.learningRate / 2,
                                  seed: plan.seed &+ UInt64(mode.hashValueStable))
        setup.boundaryLabels = boundaryLabels
        let t = DecodeTrainer(config: config, setup: setup, data: data, initial: initial)
        let t0 = Date()
        var recent: [Double] = []
        for s in 1...max(steps, 1) {
            try shouldStop()
            recent.append(t.trainStep())
            if recent.count > every { recent.removeFirst() }
            if s % every == 0 || s == steps { progress(s, steps, recent.reduce(0, +) / Double(recent.count)) }
        }
        return TrainedModel(name: name ?? mode.rawValue, model: t.model, steps: steps,
                            finalLoss: recent.reduce(0, +) / Double(max(recent.count, 1)), seconds: Date().timeIntervalSince(t0))
    }

    /// The faster of two identical evaluations (greedy decoding gives the same tokens; only time differs),
    /// which damps interference from other jobs on a shared machine.
    static func fasterOfTwo(_ body: () -> EvaluationResult) -> EvaluationResult {
        let a = body(), b = body()
        return a.seconds <= b.seconds ? a : b
    }

    /// The whole experiment. `log` receives one line per stage.
    public func run(log: (String) -> Void = { _ in }, shouldStop: () throws -> Void = {}) throws -> Outcome {
        let t0 = Date()
        log("training AR (\(plan.arSteps) steps)")
        let ar = try train(.ar, steps: plan.arSteps, shouldStop: shouldStop, progress: { s, n, l in log("  ar \(s)/\(n) loss \(String(format: "%.3f", l))") })
        log("training MDM (\(plan.mdmSteps) steps)")
        let mdm = try train(.mdm, steps: plan.mdmSteps, shouldStop: shouldStop, progress: { s, n, l in log("  mdm \(s)/\(n) loss \(String(format: "%.3f", l))") })
        log("training ReFusion from AR (\(plan.refusionSteps) steps)")
        let rf = try train(.refusion, steps: plan.refusionSteps, initial: ar.model, shouldStop: shouldStop,
                       progress: { s, n, l in log("  refusion \(s)/\(n) loss \(String(format: "%.3f", l))") })
        log("training ReFusion from AR with the paper's labels (ablation, \(plan.refusionSteps) steps)")
        let rfPaper = try train(.refusion, steps: plan.refusionSteps, initial: ar.model, name: Self.paperLabelsModel,
                                boundaryLabels: false, shouldStop: shouldStop,
                                progress: { s, n, l in log("  refusion-paper-labels \(s)/\(n) loss \(String(format: "%.3f", l))") })
        let trainingSeconds = Date().timeIntervalSince(t0)

        let t1 = Date()
        let p = plan.parameters
        let arithMax = data.responseBudget(.arithmetic), textMax = data.responseBudget(.text)
        let judge = CharNGramJudge(corpus: data.textTrain.map { $0.promptText + $0.responseText })
        let textTest = Array(data.textTest.prefix(plan.textTestCount))
        let decoders = [
            DecoderUnderTest(name: "AR (KV cache)", mode: .ar, model: ar.model, parameters: p),
            DecoderUnderTest(name: "MDM (LLaDA-style)", mode: .mdm, model: mdm.model, parameters: p),
            DecoderUnderTest(name: "ReFusion", mode: .refusion, model: rf.model, parameters: p),
            DecoderUnderTest(name: "ReFusion, draft-keeping II-b", mode: .refusion, model: rf.model, parameters: p,
                             variant: .draftKeeping),
            DecoderUnderTest(name: "ReFusion model, AR decoding", mode: .ar, model: rf.model, parameters: p),
            DecoderUnderTest(name: Self.paperLabelsARDecoding, mode: .ar, model: rfPaper.model, parameters: p),
        ]
        var main: [EvaluationResult] = []
        var samples: [String: [(String, String)]] = [:]
        for d in decoders {
            log("evaluating \(d.name)")
            main.append(Self.fasterOfTwo { DecodeEvaluation.arithmetic(d, examples: data.arithmeticTest, maxTokens: arithMax) })
            var (r, s) = DecodeEvaluation.text(d, examples: textTest, maxTokens: textMax, judge: judge)
            let again = DecodeEvaluation.text(d, examples: textTest, maxTokens: textMax, judge: judge).0
            if again.seconds < r.seconds { r = again }
            main.append(r); samples[d.name] = s
            for x in data.extra {
                main.append(Self.fasterOfTwo {
                    DecodeEvaluation.exactMatch(d, task: x.task, examples: x.test, maxTokens: data.responseBudget(x.task))
                })
            }
        }
        var slot: [(Int, EvaluationResult)] = []
        for k in plan.slotSweep {
            var q = p
            q.slotSize = k
            q.blockSize = max(p.blockSize, k) / k * k
            log("sweep slot size \(k)")
            let d = DecoderUnderTest(name: "ReFusion k=\(k)", mode: .refusion, model: rf.model, parameters: q)
            slot.append((k, Self.fasterOfTwo { DecodeEvaluation.arithmetic(d, examples: data.arithmeticTest, maxTokens: arithMax) }))
        }
        var thr: [(Float, EvaluationResult)] = []
        var mdmThr: [(Float, EvaluationResult)] = []
        for tau in plan.thresholdSweep {
            var q = p
            q.slotThreshold = tau; q.tokenThreshold = tau
            log("sweep threshold \(tau)")
            let rd = DecoderUnderTest(name: "ReFusion tau=\(tau)", mode: .refusion, model: rf.model, parameters: q)
            let md = DecoderUnderTest(name: "MDM tau=\(tau)", mode: .mdm, model: mdm.model, parameters: q)
            thr.append((tau, Self.fasterOfTwo { DecodeEvaluation.arithmetic(rd, examples: data.arithmeticTest, maxTokens: arithMax) }))
            mdmThr.append((tau, Self.fasterOfTwo { DecodeEvaluation.arithmetic(md, examples: data.arithmeticTest, maxTokens: arithMax) }))
        }
        return Outcome(plan: plan, models: [ar, mdm, rf, rfPaper], main: main, slotSweep: slot, thresholdSweep: thr,
                       mdmThresholdSweep: mdmThr, textSamples: samples, data: data, trainingSeconds: trainingSeconds,
                       evaluationSeconds: Date().timeIntervalSince(t1))
    }
}
