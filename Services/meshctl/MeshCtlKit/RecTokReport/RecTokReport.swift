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
/// session's home, so an interrupted report resumes, and finished measurements go to the report's
/// committed ledger (`rectok/ledger/`), so it resumes on a fresh machine too.
public enum RecTokReport {
    /// One tokenizer and its generators (the cell's fields read through the row).
    @dynamicMemberLookup
    public struct Row: Codable, Sendable {
        public var latentChannels: Int
        public var fsd: Bool
        public var cell: TokenizerCell

        public subscript<T>(dynamicMember path: KeyPath<TokenizerCell, T>) -> T { cell[keyPath: path] }
    }

    public typealias Outcome = ReportOutcome<RecTokReportPlan, Row>

    /// The report's markdown file and figure folder in the output directory.
    public static let reportFile = "rectok.md", figureFolder = "rectok"

    public static func run(plan: RecTokReportPlan, session: MeshSession, outputDir: URL,
                           log: @escaping (String) -> Void) async throws -> Outcome {
        let t0 = Date()
        let provenance = ReportProvenance.current().dictionary   // before anything is written
        let runner = try TokenizerCellRunner(
            session: session, eval: .init(images: plan.tokenizerEvalImages, probeSplit: plan.probeSplit, evaluator: plan.generator.evaluator),
            generator: plan.generator, prefix: "rt-\(plan.name)-gen", generatorTrainLimit: plan.generatorTrainLimit, evalSeed: plan.seed,
            ledger: ReportLedger.of(outputDir: outputDir, figureFolder: figureFolder), provenance: provenance, log: log)
        var rows: [Row] = [], reconstructions: [[ImageBuffer]] = []
        for fsd in [true, false] {
            for d in plan.latentWidths {
                var config = try RecTokPresets.resolve(plan.preset, latentChannels: d, fsd: fsd)
                if fsd { config.teacher.kind = plan.teacher }
                var t = Latentmesh_V1_TokenizerTrainRequest()
                t.preset = plan.preset; t.steps = Int64(plan.tokenizerSteps); t.seed = plan.seed; t.trainLimit = Int64(plan.trainLimit)
                t.latentChannels = Int64(d); t.fsd = fsd ? "on" : "off"
                if fsd { t.teacher = plan.teacher.rawValue }
                t.checkpointName = ReportModelNames.tokenizer("rt-\(plan.name)-d\(d)-fsd\(fsd ? "on" : "off")-n\(plan.trainLimit)",
                                                              preset: plan.preset, steps: plan.tokenizerSteps, seed: plan.seed,
                                                              config: try config.json())
                let c = try await runner.run(t, describe: "\(plan.preset) d=\(d) FSD \(fsd ? "on" : "off") (\(plan.tokenizerSteps) steps)",
                                             seeds: plan.generatorSeeds)
                reconstructions.append(c.reconstruction)
                rows.append(Row(latentChannels: d, fsd: fsd, cell: c.cell))
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
