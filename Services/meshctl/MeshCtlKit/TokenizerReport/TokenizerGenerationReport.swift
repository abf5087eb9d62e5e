import Datasets
import Evaluation
import FlowGen
import Foundation
import MeshKit
import MeshProto
import RecTok
import RunStore
import VTP

/// `meshctl report tokenizer`: VTP's claim measured through generation (issue 11).
/// Every tokenizer variant x budget is trained through the mesh (`tokenizer.train`), scored by
/// `TokenizerEvaluator` (rFD, probes, held-out-template text), and gets the same generator recipe
/// (`generator.train`, `generator.evaluate`: gFD, class and colour accuracy). Training curves and
/// the commit each model was trained at come from the audit store (`TrainingHistory`). Models and
/// measurements stay in the session's home, so an interrupted report resumes.
public enum TokenizerGenerationReport {
    /// One tokenizer and the generators trained on its latents.
    public struct Row: Codable, Sendable {
        /// The plan part's preset data name (`fmnistc32`, `emoji32`).
        public var data: String
        public var variant: String
        public var budget: Double
        public var steps: Int
        public var tokenizer: String
        /// Seconds of the tokenizer's training run (its recorded duration).
        public var tokenizerSeconds: Double
        public var tokenizerMetrics: TokenizerMetrics
        /// One generator per seed.
        public var generations: [GeneratorReport.Measurement]
        /// The tokenizer run's recorded metrics and commit.
        public var history: TrainingHistory?

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
        let figDir = outputDir.appendingPathComponent(figureFolder)
        try FileManager.default.createDirectory(at: figDir, withIntermediateDirectories: true)
        var rows: [Row] = []
        var reconstructionFigures: [String] = []
        for part in plan.parts {
            // One runner per dataset: its validation images head the reconstruction grids.
            let runner = try TokenizerCellRunner(
                session: session, eval: .init(images: part.tokenizerEvalImages, probeSplit: part.probeSplit, evaluator: plan.evaluator),
                generator: .init(prefix: "tg-\(plan.name)-gen", preset: plan.generatorPreset, steps: plan.generatorSteps,
                                 trainLimit: part.generatorTrainLimit, evalImages: plan.evalImages, evalSteps: plan.evalSteps,
                                 guidance: plan.guidance, evaluator: plan.evaluator, evalSeed: plan.seed),
                log: log)
            var reconstructions: [Double: [[ImageBuffer]]] = [:]
            for budget in plan.budgets {
                for variant in plan.variants {
                    let preset = "\(variant)-\(part.data)-\(plan.size)", steps = part.tokenizerSteps(budget)
                    let images = part.trainLimit > 0 ? "\(part.trainLimit)" : "all"
                    var t = Latentmesh_V1_TokenizerTrainRequest()
                    t.preset = preset; t.steps = Int64(steps); t.seed = plan.seed; t.trainLimit = Int64(part.trainLimit)
                    t.checkpointName = ReportModelNames.tokenizer("tg-\(plan.name)-\(variant)-n\(images)", preset: preset, steps: steps,
                                                                  seed: plan.seed, config: try VTPPresets.resolve(preset).json())
                    let c = try await runner.run(t, describe: "\(preset) x\(budget) (\(steps) steps on \(images) images)",
                                                 seeds: plan.generatorSeeds(budget))
                    reconstructions[budget, default: []].append(c.reconstruction)
                    rows.append(Row(data: part.data, variant: variant, budget: budget, steps: steps, tokenizer: c.tokenizer,
                                    tokenizerSeconds: c.seconds, tokenizerMetrics: c.metrics, generations: c.generations, history: c.history))
                }
            }
            for (budget, grid) in reconstructions.sorted(by: { $0.key < $1.key }) {
                let file = TokenizerGenerationRenderer.figure("recon", part.data, budget)
                try runner.writeReconstructionGrid(grid, to: figDir.appendingPathComponent(file))
                reconstructionFigures.append(file)
            }
        }
        var outcome = Outcome(plan: plan, provenance: provenance, rows: rows, wallSeconds: 0, figures: [])
        outcome.figures = try TokenizerGenerationRenderer.writeFigures(outcome, figDir: figDir)
            + TokenizerGenerationRenderer.writeTrainingFigures(outcome, figDir: figDir) + reconstructionFigures
        outcome.wallSeconds = Date().timeIntervalSince(t0)
        try TokenizerGenerationRenderer.markdown(outcome).write(to: outputDir.appendingPathComponent(reportFile),
                                                                atomically: true, encoding: .utf8)
        try JSONEncoder().encode(outcome).write(to: figDir.appendingPathComponent("outcome.json"))
        return outcome
    }

    /// The report's markdown file and figure folder in the output directory.
    public static let reportFile = "tokenizer.md", figureFolder = "tokenizer"
}
