import Datasets
import Evaluation
import Foundation
import MeshKit
import MeshProto
import RecTok
import RunStore
import VTP

/// `meshctl report tokenizer-generation`: VTP's claim measured through generation (issue 11).
/// Every tokenizer variant x budget is trained through the mesh (`tokenizer.train`), scored by
/// `TokenizerEvaluator` (rFD, probes, held-out-template text), and gets the same generator recipe
/// (`generator.train`, `generator.evaluate`: gFD, class and colour accuracy). Models and
/// measurements stay in the session's home, so an interrupted report resumes.
public enum TokenizerGenerationReport {
    /// One tokenizer and the generators trained on its latents.
    public struct Row: Codable, Sendable {
        public var variant: String
        public var budget: Double
        public var steps: Int
        public var tokenizer: String
        /// Seconds of the tokenizer's training run (its recorded duration).
        public var tokenizerSeconds: Double
        public var tokenizerMetrics: TokenizerMetrics
        /// One generator per seed.
        public var generations: [GeneratorReport.Measurement]

        /// gFD over the generator seeds: their mean, std = √(mean bootstrap variance + seed variance).
        public var gFD: Estimate { Self.pool(generations.map(\.gFD)) }
        public var classAccuracy: Estimate { Self.pool(generations.map(\.classAccuracy), bootstrapStd: { ($0.high - $0.low) / 3.92 }) }

        static func pool(_ es: [Estimate], bootstrapStd: (Estimate) -> Double = { $0.std }) -> Estimate {
            guard !es.isEmpty else { return Estimate(value: .nan, low: .nan, high: .nan, std: .nan, replicates: 0) }
            let m = es.map(\.value).reduce(0, +) / Double(es.count)
            let within = es.map { bootstrapStd($0) * bootstrapStd($0) }.reduce(0, +) / Double(es.count)
            let between = es.count > 1 ? es.map { ($0.value - m) * ($0.value - m) }.reduce(0, +) / Double(es.count - 1) : 0
            let s = (within + between).squareRoot()
            return Estimate(value: m, low: m - 1.96 * s, high: m + 1.96 * s, std: s, replicates: es.count)
        }
    }

    public struct Outcome: Codable, Sendable {
        public var plan: TokenizerGenerationPlan
        public var provenance: [String: String]
        public var rows: [Row]
        public var wallSeconds: Double
        public var figures: [String]
    }

    public static func run(plan: TokenizerGenerationPlan, session: MeshSession, outputDir: URL,
                           log: @escaping (String) -> Void) async throws -> Outcome {
        let t0 = Date()
        // Read before anything is written: the report's own outputs must not mark the tree dirty.
        let provenance = ReportProvenance.current().dictionary
        let registry = ModelRegistry(artifacts: session.artifacts)
        let cacheDir = session.home.appendingPathComponent("report-measurements")
        try FileManager.default.createDirectory(at: cacheDir, withIntermediateDirectories: true)
        var rows: [Row] = []
        for budget in plan.budgets {
            for variant in plan.variants {
                let preset = "\(variant)-\(plan.data)-\(plan.size)", steps = plan.tokenizerSteps(budget)
                let tokName = ReportModelNames.tokenizer("tg-\(plan.name)-\(variant)-n\(plan.trainLimit)", preset: preset, steps: steps,
                                                         seed: plan.seed)
                if try !registry.exists(tokName) {
                    log("training tokenizer \(preset) x\(budget) (\(steps) steps on \(plan.trainLimit) images)")
                    var t = Latentmesh_V1_TokenizerTrainRequest()
                    t.preset = preset; t.steps = Int64(steps); t.seed = plan.seed; t.checkpointName = tokName
                    t.trainLimit = Int64(plan.trainLimit)
                    _ = try await session.callFollowing("tokenizer.train", t, as: Latentmesh_V1_TokenizerTrainResult.self)
                }
                let tokRecord = try registry.record(tokName, field: "tokenizer")
                let tokSeconds = try tokRecord.runID.flatMap { try session.store.run(id: $0)?.durationMs }.map { $0 / 1000 } ?? .nan
                let metrics = try tokenizerMetrics(tokRecord, plan: plan, registry: registry, cacheDir: cacheDir, log: log)
                var generations: [GeneratorReport.Measurement] = []
                for seed in plan.generatorSeeds(budget) {
                    let genName = ReportModelNames.generator("tg-\(plan.name)-gen", preset: plan.generatorPreset, steps: plan.generatorSteps,
                                                             trainLimit: plan.generatorTrainLimit, seed: seed, tokenizer: tokName)
                    if try !registry.exists(genName) {
                        log("training generator on \(tokName) (seed \(seed))")
                        var g = Latentmesh_V1_GeneratorTrainRequest()
                        g.preset = plan.generatorPreset; g.tokenizerCheckpoint = tokName; g.steps = Int64(plan.generatorSteps)
                        g.seed = seed; g.modelName = genName; g.trainLimit = Int64(plan.generatorTrainLimit)
                        _ = try await session.callFollowing("generator.train", g, as: Latentmesh_V1_GeneratorTrainResult.self)
                    }
                    generations.append(try await GeneratorReport.measure(genName, step: plan.generatorSteps, images: plan.evalImages,
                                                                         steps: plan.evalSteps, guidance: plan.guidance, sampler: "euler",
                                                                         evaluator: plan.evaluator, seed: plan.seed, session: session,
                                                                         cacheDir: cacheDir, log: log))
                }
                rows.append(Row(variant: variant, budget: budget, steps: steps, tokenizer: tokName, tokenizerSeconds: tokSeconds,
                                tokenizerMetrics: metrics, generations: generations))
            }
        }
        let figDir = outputDir.appendingPathComponent("tokenizer-generation")
        try FileManager.default.createDirectory(at: figDir, withIntermediateDirectories: true)
        var outcome = Outcome(plan: plan, provenance: provenance, rows: rows, wallSeconds: 0, figures: [])
        outcome.figures = try TokenizerGenerationRenderer.writeFigures(outcome, figDir: figDir)
        outcome.wallSeconds = Date().timeIntervalSince(t0)
        try TokenizerGenerationRenderer.markdown(outcome).write(to: outputDir.appendingPathComponent("tokenizer-generation.md"),
                                                                atomically: true, encoding: .utf8)
        try JSONEncoder().encode(outcome).write(to: figDir.appendingPathComponent("outcome.json"))
        return outcome
    }

    /// `TokenizerEvaluator` on the registered tokenizer, cached by its checkpoint hash and the plan's counts.
    static func tokenizerMetrics(_ record: ModelRecord, plan: TokenizerGenerationPlan, registry: ModelRegistry, cacheDir: URL,
                                 log: (String) -> Void) throws -> TokenizerMetrics {
        let key = EvaluationCache.key("tokenizer-metrics", [record.sha256, String(plan.tokenizerEvalImages)] + plan.probeSplit.map(String.init))
        let file = cacheDir.appendingPathComponent(key + ".json")
        if let d = try? Data(contentsOf: file), let m = try? JSONDecoder().decode(TokenizerMetrics.self, from: d) { return m }
        log("evaluating tokenizer \(record.name)")
        let tok = try LatentTokenizers.load(checkpointPath: try registry.file(record, field: "tokenizer").path)
        var ev = TokenizerEvaluator()
        ev.reconstructionImages = plan.tokenizerEvalImages; ev.heldOutTextImages = plan.tokenizerEvalImages
        ev.probeTrain = plan.probeSplit[0]; ev.probeTune = plan.probeSplit[1]; ev.probeScored = plan.probeSplit[2]
        if plan.evaluator == "quick" { ev.fdResolution = 32; ev.fdBootstrap = 2; ev.bootstrap = 50 }
        // Probes and reconstruction on the whole train split (the tokenizer's train limit only bounds its training).
        let m = try ev.evaluate(tok, data: try VTPData(tokenizer: tok), text: try TextEmbeddingCache.miniLM())
        try JSONEncoder().encode(m).write(to: file)
        log(String(format: "  rFD %.1f, probe grid %.3f, probe CLS %.3f", m.rFD.value, m.probeGrid.value, m.probeCLS?.value ?? .nan))
        return m
    }
}
