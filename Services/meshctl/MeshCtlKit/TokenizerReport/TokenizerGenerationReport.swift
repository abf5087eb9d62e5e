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
/// measurements stay in the session's home, so an interrupted report resumes; finished measurements
/// also go to the report's ledger (`tokenizer/ledger/`, committed with the report), so the run
/// resumes on a fresh machine too.
public enum TokenizerGenerationReport {
    /// One tokenizer and the generators trained on its latents (the cell's fields read through the row).
    @dynamicMemberLookup
    public struct Row: Codable, Sendable {
        /// The plan part's preset data name (`fmnistc32`, `emoji32`).
        public var data: String
        public var variant: String
        public var budget: Double
        public var steps: Int
        public var cell: TokenizerCell
        /// The SSL diagnosis trial's label (`TokenizerGenerationPlan.SSLDiagnosis`); nil = the main grid.
        public var trial: String? = nil

        public subscript<T>(dynamicMember path: KeyPath<TokenizerCell, T>) -> T { cell[keyPath: path] }
    }

    public typealias Outcome = ReportOutcome<TokenizerGenerationPlan, Row>

    public static func run(plan: TokenizerGenerationPlan, session: MeshSession, outputDir: URL,
                           log: @escaping (String) -> Void) async throws -> Outcome {
        let t0 = Date()
        // Read before anything is written: the report's own outputs must not mark the tree dirty.
        let provenance = ReportProvenance.current().dictionary
        let figDir = outputDir.appendingPathComponent(figureFolder)
        try FileManager.default.createDirectory(at: figDir, withIntermediateDirectories: true)
        var rows: [Row] = []
        var reconstructionFigures: [String] = []
        var outcome = Outcome(plan: plan, provenance: provenance, rows: [], wallSeconds: 0, figures: [])
        var runners: [String: TokenizerCellRunner] = [:]
        for part in plan.parts {
            // One runner per dataset: its validation images head the reconstruction grids.
            let runner = try self.runner(plan, part, session: session, ledger: ReportLedger.of(outputDir: outputDir, figureFolder: figureFolder),
                                         provenance: provenance, log: log)
            runners[part.data] = runner
            var reconstructions: [Double: [[ImageBuffer]]] = [:]
            for budget in plan.budgets {
                for variant in plan.variants {
                    let (t, describe) = try request(plan, part, variant: variant, budget: budget)
                    let c = try await runner.run(t, describe: describe, seeds: plan.generatorSeeds(budget))
                    let steps = Int(t.steps)
                    reconstructions[budget, default: []].append(c.reconstruction)
                    rows.append(Row(data: part.data, variant: variant, budget: budget, steps: steps, cell: c.cell))
                }
            }
            for (budget, grid) in reconstructions.sorted(by: { $0.key < $1.key }) {
                let file = TokenizerGenerationRenderer.figure("recon", part.data, budget)
                try runner.writeReconstructionGrid(grid, to: figDir.appendingPathComponent(file))
                reconstructionFigures.append(file)
            }
            // Written after every dataset, so a long run leaves a readable report of the parts done
            // (the markdown names the parts still pending).
            outcome = try write(Outcome(plan: plan, provenance: provenance, rows: rows, wallSeconds: Date().timeIntervalSince(t0), figures: []),
                                reconstructionFigures: reconstructionFigures, outputDir: outputDir)
        }
        if let d = plan.sslDiagnosis {
            // The dataset's runner from the grid (its validation data already loaded).
            guard let part = plan.parts.first(where: { $0.data == d.data }), let runner = runners[d.data], plan.budgets.contains(d.budget) else {
                throw ValidationFailure("sslDiagnosis: data '\(d.data)' and budget x\(d.budget) must be a part and a budget of the plan")
            }
            for trial in d.trials {
                let (t, describe) = try request(plan, part, variant: d.variant, budget: d.budget, overrides: trial.overrides)
                let c = try await runner.run(t, describe: "SSL diagnosis '\(trial.label)': \(describe)", seeds: [])
                rows.append(Row(data: part.data, variant: d.variant, budget: d.budget, steps: Int(t.steps), cell: c.cell, trial: trial.label))
            }
            outcome = try write(Outcome(plan: plan, provenance: provenance, rows: rows, wallSeconds: Date().timeIntervalSince(t0), figures: []),
                                reconstructionFigures: reconstructionFigures, outputDir: outputDir)
        }
        return outcome
    }

    /// The cell runner of one dataset part.
    static func runner(_ plan: TokenizerGenerationPlan, _ part: TokenizerGenerationPlan.DataPart, session: MeshSession,
                       ledger: ReportLedger?, provenance: [String: String], log: @escaping (String) -> Void) throws -> TokenizerCellRunner {
        try TokenizerCellRunner(
            session: session, eval: .init(images: part.tokenizerEvalImages, probeSplit: part.probeSplit, evaluator: plan.generator.evaluator),
            generator: plan.generator, prefix: "tg-\(plan.name)-gen", generatorTrainLimit: part.generatorTrainLimit, evalSeed: plan.seed,
            ledger: ledger, provenance: provenance, log: log)
    }

    /// The `tokenizer.train` request of one tokenizer (named by its resolved configuration, overrides
    /// applied, so a trial without overrides is the main grid's tokenizer) and how to describe it.
    static func request(_ plan: TokenizerGenerationPlan, _ part: TokenizerGenerationPlan.DataPart, variant: String, budget: Double,
                        overrides: [String] = []) throws -> (Latentmesh_V1_TokenizerTrainRequest, String) {
        let preset = "\(variant)-\(part.data)-\(plan.size)", steps = part.tokenizerSteps(budget)
        let images = part.trainLimit > 0 ? "\(part.trainLimit)" : "all"
        var t = Latentmesh_V1_TokenizerTrainRequest()
        t.preset = preset; t.steps = Int64(steps); t.seed = plan.seed; t.trainLimit = Int64(part.trainLimit)
        t.configOverrides = overrides
        let config = try ConfigOverrides.apply(overrides, to: try VTPPresets.resolve(preset))
        t.checkpointName = ReportModelNames.tokenizer("tg-\(plan.name)-\(variant)-n\(images)", preset: preset, steps: steps,
                                                      seed: plan.seed, config: try config.json())
        return (t, "\(preset) x\(budget) (\(steps) steps on \(images) images)")
    }

    /// Figures, markdown and `outcome.json` of the rows measured so far.
    static func write(_ o: Outcome, reconstructionFigures: [String], outputDir: URL) throws -> Outcome {
        var outcome = o
        let figDir = outputDir.appendingPathComponent(figureFolder)
        outcome.figures = try TokenizerGenerationRenderer.writeFigures(outcome, figDir: figDir)
            + TokenizerGenerationRenderer.writeTrainingFigures(outcome, figDir: figDir) + reconstructionFigures
        try TokenizerGenerationRenderer.markdown(outcome).write(to: outputDir.appendingPathComponent(reportFile),
                                                                atomically: true, encoding: .utf8)
        try JSONEncoder().encode(outcome).write(to: figDir.appendingPathComponent("outcome.json"))
        return outcome
    }

    /// The report's markdown file and figure folder in the output directory.
    public static let reportFile = "tokenizer.md", figureFolder = "tokenizer"
}
