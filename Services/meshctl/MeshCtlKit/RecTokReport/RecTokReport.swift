import Datasets
import Evaluation
import Foundation
import MeshKit
import MeshProto
import RecTok
import VTP

/// `meshctl report rectok`: RecTok's claim measured through generation (issue 11 item 5). Every
/// latent width d x FSD on/off is trained through the mesh (`tokenizer.train` with
/// `latent_channels`, `fsd`, `teacher`), scored (rFD, probes) and gets the same generator recipe
/// (gFD, class accuracy), by the shared `TokenizerCellRunner`; everything is cached in the
/// session's home, so an interrupted report resumes.
public enum RecTokReport {
    /// One tokenizer and its generators.
    public struct Row: Codable, Sendable {
        public var latentChannels: Int
        public var fsd: Bool
        public var tokenizer: String
        public var tokenizerSeconds: Double
        public var tokenizerMetrics: TokenizerMetrics
        public var generations: [GeneratorReport.Measurement]
        public var history: TrainingHistory?

        /// Pooled over generator seeds (bootstrap and seed variance), as in the tokenizer report.
        public var gFD: Estimate { TokenizerGenerationReport.Row.pool(generations.map(\.gFD)) }
        public var classAccuracy: Estimate {
            TokenizerGenerationReport.Row.pool(generations.map(\.classAccuracy), bootstrapStd: { ($0.high - $0.low) / 3.92 })
        }
    }

    public struct Outcome: Codable, Sendable {
        public var plan: RecTokReportPlan
        public var provenance: [String: String]
        public var rows: [Row]
        public var wallSeconds: Double
        public var figures: [String]
    }

    /// The report's markdown file and figure folder in the output directory.
    public static let reportFile = "rectok.md", figureFolder = "rectok"

    public static func run(plan: RecTokReportPlan, session: MeshSession, outputDir: URL,
                           log: @escaping (String) -> Void) async throws -> Outcome {
        let t0 = Date()
        let provenance = ReportProvenance.current().dictionary   // before anything is written
        let runner = try TokenizerCellRunner(
            session: session, eval: .init(images: plan.tokenizerEvalImages, probeSplit: plan.probeSplit, evaluator: plan.evaluator),
            generator: .init(prefix: "rt-\(plan.name)-gen", preset: plan.generatorPreset, steps: plan.generatorSteps,
                             trainLimit: plan.generatorTrainLimit, evalImages: plan.evalImages, evalSteps: plan.evalSteps,
                             guidance: plan.guidance, evaluator: plan.evaluator, evalSeed: plan.seed),
            log: log)
        var rows: [Row] = [], reconstructions: [[ImageBuffer]] = []
        for fsd in [true, false] {
            for d in plan.latentWidths {
                var config = try RecTokPresets.resolve(plan.preset, latentChannels: d, fsd: fsd)
                if fsd, let kind = RecTokTeacherKind(rawValue: plan.teacher) { config.teacher.kind = kind }
                var t = Latentmesh_V1_TokenizerTrainRequest()
                t.preset = plan.preset; t.steps = Int64(plan.tokenizerSteps); t.seed = plan.seed; t.trainLimit = Int64(plan.trainLimit)
                t.latentChannels = Int64(d); t.fsd = fsd ? "on" : "off"
                if fsd { t.teacher = plan.teacher }
                t.checkpointName = ReportModelNames.tokenizer("rt-\(plan.name)-d\(d)-fsd\(fsd ? "on" : "off")-n\(plan.trainLimit)",
                                                              preset: plan.preset, steps: plan.tokenizerSteps, seed: plan.seed,
                                                              config: try config.json())
                let c = try await runner.run(t, describe: "\(plan.preset) d=\(d) FSD \(fsd ? "on" : "off") (\(plan.tokenizerSteps) steps)",
                                             seeds: plan.generatorSeeds)
                reconstructions.append(c.reconstruction)
                rows.append(Row(latentChannels: d, fsd: fsd, tokenizer: c.tokenizer, tokenizerSeconds: c.seconds, tokenizerMetrics: c.metrics,
                                generations: c.generations, history: c.history))
            }
        }
        let figDir = outputDir.appendingPathComponent(figureFolder)
        try FileManager.default.createDirectory(at: figDir, withIntermediateDirectories: true)
        var outcome = Outcome(plan: plan, provenance: provenance, rows: rows, wallSeconds: 0, figures: [])
        outcome.figures = try RecTokReportRenderer.writeFigures(outcome, figDir: figDir)
        try runner.writeReconstructionGrid(reconstructions, to: figDir.appendingPathComponent("recon.png"))
        outcome.figures.append("recon.png")
        outcome.wallSeconds = Date().timeIntervalSince(t0)
        try RecTokReportRenderer.markdown(outcome).write(to: outputDir.appendingPathComponent(reportFile), atomically: true, encoding: .utf8)
        try JSONEncoder().encode(outcome).write(to: figDir.appendingPathComponent("outcome.json"))
        return outcome
    }
}
