import Evaluation
import Foundation
@testable import MeshCtlKit
import MeshTesting
@testable import VTP
import XCTest

/// `meshctl report tokenizer`'s quick plan end to end on an embedded mesh: on fmnist-color and on
/// emoji (gFD only), tokenizers at two budgets, a generator on each (two seeds at the largest
/// budget), tokenizer and generation metrics with spreads, the figures, computed verdicts; a rerun
/// reuses everything.
final class TokenizerGenerationReportTests: XCTestCase {
    func testQuickPlanWritesTheReport() async throws {
        let bed = ReportTestBed("tokgen")
        defer { bed.remove() }
        let out = bed.out
        let plan = try XCTUnwrap(TokenizerGenerationPlan.named("quick"))
        let (o, _) = try await bed.run { try await TokenizerGenerationReport.run(plan: plan, session: $0, outputDir: $1, log: $2) }
        let grid = o.rows.filter { $0.trial == nil }
        XCTAssertEqual(grid.count, plan.parts.count * plan.variants.count * plan.budgets.count)
        XCTAssertEqual(grid.map(\.data), ["fmnistc32", "fmnistc32", "fmnistc32", "fmnistc32", "emoji32", "emoji32", "emoji32", "emoji32"])
        XCTAssertEqual(grid.map(\.steps), [8, 8, 16, 16, 8, 8, 16, 16], "x1 and x2 of 8 steps for each variant")
        XCTAssertEqual(grid.map(\.generations.count), [1, 1, 2, 2, 1, 1, 2, 2], "two generator seeds at the largest budget")
        XCTAssertEqual(Set(grid.map(\.tokenizer)).count, 8, "one tokenizer per dataset x variant x budget")
        for r in grid {
            XCTAssertTrue(r.gFD.value.isFinite && r.gFD.value > 0, "\(r.data) \(r.variant) x\(r.budget)")
            XCTAssertEqual(r.tokenizerMetrics.probeSplit, [16, 16, 16])
            XCTAssertEqual(r.tokenizerMetrics.heldOutText == nil, r.variant == "ae" || r.data == "emoji32",
                           "only CLIP variants get the text score, and only where a test split exists")
            XCTAssertEqual(r.classAccuracy.value.isFinite, r.data == "fmnistc32", "emoji is judged by gFD alone")
        }
        for g in grid.filter({ $0.data == "emoji32" }).flatMap(\.generations) {
            XCTAssertNil(g.metrics["class_accuracy"], "no accuracy key without a judge")
            XCTAssertEqual(g.referenceImages, 120, "the quick evaluator's emoji reference")
            XCTAssertNotNil(g.metrics["recon_gfd"], "the reconstruction anchor on emoji")
        }
        let seeds = grid[3].generations
        XCTAssertNotEqual(seeds[0].model, seeds[1].model)
        for f in o.figures { XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("tokenizer/\(f)").path), f) }
        for f in ["fmnistc32-recon-x2.png", "fmnistc32-loss_dino-x2.png", "fmnistc32-dino_batch_entropy-x1.png", "emoji32-recon-x1.png",
                  "emoji32-gfd-vs-compute.png", "fmnistc32-class-vs-compute.png"] {
            XCTAssertTrue(o.figures.contains(f), "\(f) in \(o.figures)")
        }
        XCTAssertFalse(o.figures.contains("emoji32-class-vs-compute.png"), "no class accuracy on emoji")
        // The SSL diagnosis: the preset trial is the main grid's tokenizer; the other is retrained with its overrides.
        let trials = o.rows.filter { $0.trial != nil }
        XCTAssertEqual(trials.map(\.trial), ["preset", "larger local crops"])
        let vtpX1 = try XCTUnwrap(grid.first { $0.data == "fmnistc32" && $0.variant == "vtp" && $0.budget == 1 })
        XCTAssertEqual(trials[0].tokenizer, vtpX1.tokenizer, "no overrides: the same configuration, the same cached model")
        XCTAssertNotEqual(trials[1].tokenizer, vtpX1.tokenizer, "overrides change the configuration and so the name")
        XCTAssertEqual(trials.map(\.generations.count), [0, 0], "the diagnosis trains no generators")
        XCTAssertEqual(trials[1].steps, 8)
        XCTAssertNotNil(trials[1].history?.series["loss_dino"])
        for r in o.rows {
            let h = try XCTUnwrap(r.history, "the tokenizer run's history is read from the store")
            XCTAssertEqual(h.series["loss"]?.steps.last, Double(r.steps), "the last progress report is the last step")
            XCTAssertEqual(h.series["loss_dino"] == nil, r.variant == "ae", "only SSL variants have a DINO loss")
            XCTAssertNotNil(h.commit)
        }
        let md = try String(contentsOf: out.appendingPathComponent("tokenizer.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("### The SSL heads (DINO) on fmnistc32") && md.contains("| vtp | x2 |"), md)
        XCTAssertTrue(md.contains("![fmnistc32 reconstructions x2](tokenizer/fmnistc32-recon-x2.png)"), md)
        XCTAssertTrue(md.contains("## emoji32") && md.contains("![emoji32 reconstructions x2](tokenizer/emoji32-recon-x2.png)"), md)
        XCTAssertTrue(md.contains("--plan quick") && md.contains(o.provenance["commit"] ?? "?"), md)
        XCTAssertTrue(md.contains("| vtp | x2 | 16 |"), md)
        XCTAssertTrue(md.contains("- emoji32: The paper's claim (VTP's gFD falls with tokenizer compute more than the AE's)"), md)
        XCTAssertTrue(md.contains("Spearman ρ"), md)
        XCTAssertTrue(md.contains("## SSL diagnosis: vtp on fmnistc32 at x1") && md.contains("| larger local crops | `train.localCropMin=0.3` `train.localCropMax=0.6` |"), md)
        XCTAssertTrue(md.contains("- The DINO loss ends below half of ln K in "), md)
        // Rerun: models and measurements come from the home.
        let (again, log) = try await bed.run { try await TokenizerGenerationReport.run(plan: plan, session: $0, outputDir: $1, log: $2) }
        XCTAssertTrue(ReportTestBed.reusedEverything(log), "\(log)")
        XCTAssertEqual(again.rows.filter { $0.trial == nil }.map(\.gFD.value), grid.map(\.gFD.value))
        XCTAssertEqual(again.rows.map(\.tokenizerMetrics.probeGrid.value), o.rows.map(\.tokenizerMetrics.probeGrid.value))
    }

    /// The understanding-side verdicts on hand-made numbers: judged against the spread, computed, not fixed text.
    func testUnderstandingVerdictsAreJudgedAgainstTheSpread() throws {
        func est(_ v: Double, _ s: Double) -> Estimate { Estimate(value: v, low: v - 2 * s, high: v + 2 * s, std: s, replicates: 100) }
        func metrics(grid: Double, cls: Double, rfd: Double) -> TokenizerMetrics {
            TokenizerMetrics(rFD: est(rfd, 1), psnr: 20, ssim: 0.5, heldOutText: nil, probeGrid: est(grid, 0.01),
                             probeLatent: est(grid, 0.01), probeCLS: est(cls, 0.01), probeSplit: [10, 10, 10], evalImages: 10,
                             fdResolution: 96)
        }
        func row(_ v: String, _ b: Double, _ m: TokenizerMetrics, dino: [Double]? = nil) -> TokenizerGenerationReport.Row {
            let history = dino.map { d in
                TrainingHistory(series: ["loss_dino": .init(steps: d.indices.map(Double.init), values: d),
                                         "dino_teacher_entropy": .init(steps: d.indices.map(Double.init), values: d.map { _ in 1.5 }),
                                         "dino_batch_entropy": .init(steps: d.indices.map(Double.init), values: d.map { _ in 3.0 })], commit: "c")
            }
            return .init(data: "fmnistc32", variant: v, budget: b, steps: Int(b),
                         cell: TokenizerCell(tokenizer: "\(v)\(b)", tokenizerSeconds: 1, tokenizerMetrics: m, generations: [], history: history))
        }
        var plan = try XCTUnwrap(TokenizerGenerationPlan.named("quick"))
        plan.variants = ["ae", "ssl-ae", "vtp"]; plan.budgets = [1, 3]
        let o = TokenizerGenerationReport.Outcome(plan: plan, provenance: [:], rows: [
            row("ae", 1, metrics(grid: 0.50, cls: 0.50, rfd: 100)), row("vtp", 1, metrics(grid: 0.60, cls: 0.51, rfd: 120)),
            row("ae", 3, metrics(grid: 0.50, cls: 0.50, rfd: 80)), row("vtp", 3, metrics(grid: 0.70, cls: 0.40, rfd: 90)),
            row("ssl-ae", 3, metrics(grid: 0.45, cls: 0.30, rfd: 95), dino: Array(repeating: 1.7, count: 20)),
        ], wallSeconds: 0, figures: [])
        let text = TokenizerGenerationRenderer.understandingVerdict(o, "fmnistc32").joined(separator: "\n")
        XCTAssertTrue(text.contains("x1, a semantic latent (vtp's probe above the AE's): on the latent grid vtp − ae = +0.100 ± 0.014 (holds); on the CLS +0.010 ± 0.014 (not shown)"), text)
        XCTAssertTrue(text.contains("on the CLS -0.100 ± 0.014 (does not hold)"), text)
        XCTAssertTrue(text.contains("x3, SSL alone (ssl-ae's probe above the AE's): CLS -0.200 ± 0.014 (does not hold)"), text)
        XCTAssertTrue(text.contains("difference +0.100 ± 0.020: holds"), text)
        XCTAssertTrue(text.contains("ae from x1 to x3: rFD 100.0 -> 80.0 (holds that it improves)"), text)
        // ssl-xs has 64 prototypes: ln 64 = 4.159; teacher entropy 1.5 < 0.9 ln K, batch entropy 3.0 -> not collapsed, e^3 = 20.1.
        XCTAssertTrue(text.contains("ssl-ae at x3: DINO loss 1.700 vs ln K = 4.159; teacher entropy 1.500, batch-mean entropy 3.000: not collapsed (sharp per-image targets spread over about 20.1 prototypes)"), text)
        let table = TokenizerGenerationRenderer.sslTable(o, "fmnistc32")
        XCTAssertTrue(table.contains("| ssl-ae | x3 | 1.700 | 4.159 | 1.500 | 3.000 | 20.1 of 64 |"), table)
        // A report written while the run goes on names what is still pending (5 of 3 x 2 fmnist cells, no emoji yet).
        let md = TokenizerGenerationRenderer.markdown(o)
        XCTAssertTrue(md.contains("## fmnistc32\n\n**Pending**: measured 5 of 6 tokenizers"), md)
        XCTAssertTrue(md.contains("## emoji32\n\n**Pending**: measured 0 of 6 tokenizers"), md)
        XCTAssertTrue(md.contains("## SSL diagnosis: vtp on fmnistc32 at x1\n\n**Pending**: measured 0 of 2 trials"), md)
    }

    /// The SSL diagnosis' verdicts on hand-made trials: learning judged against ln K of each trial's
    /// own prototypes, the best probe against the AE's spread; computed, not fixed text.
    func testSSLDiagnosisVerdictsAreComputed() throws {
        func est(_ v: Double, _ s: Double) -> Estimate { Estimate(value: v, low: v - 2 * s, high: v + 2 * s, std: s, replicates: 100) }
        func metrics(grid: Double, cls: Double) -> TokenizerMetrics {
            TokenizerMetrics(rFD: est(100, 1), psnr: 20, ssim: 0.5, heldOutText: nil, probeGrid: est(grid, 0.01),
                             probeLatent: est(grid, 0.01), probeCLS: est(cls, 0.01), probeSplit: [10, 10, 10], evalImages: 10,
                             fdResolution: 96)
        }
        func row(_ v: String, trial: String?, _ m: TokenizerMetrics, dino: Double?) -> TokenizerGenerationReport.Row {
            let history = dino.map { d in
                TrainingHistory(series: ["loss_dino": .init(steps: (0..<20).map(Double.init), values: Array(repeating: d, count: 20))], commit: "c")
            }
            return .init(data: "fmnistc32", variant: v, budget: 1, steps: 8,
                         cell: TokenizerCell(tokenizer: "\(v)\(trial ?? "")", tokenizerSeconds: 1, tokenizerMetrics: m, generations: [], history: history),
                         trial: trial)
        }
        var plan = try XCTUnwrap(TokenizerGenerationPlan.named("quick"))
        plan.sslDiagnosis = .init(data: "fmnistc32", variant: "vtp", budget: 1, trials: [
            .init(label: "preset", overrides: []), .init(label: "few prototypes", overrides: ["model.prototypes=4"]),
            .init(label: "wide", overrides: ["train.localCropMin=0.3"])])
        // vtp-fmnistc32-xs has 64 prototypes (half ln K = 2.079); the second trial has 4 (half ln 4 = 0.693).
        let o = TokenizerGenerationReport.Outcome(plan: plan, provenance: [:], rows: [
            row("ae", trial: nil, metrics(grid: 0.50, cls: 0.50), dino: nil),
            row("vtp", trial: "preset", metrics(grid: 0.52, cls: 0.40), dino: 1.5),
            row("vtp", trial: "few prototypes", metrics(grid: 0.45, cls: 0.45), dino: 1.0),
            row("vtp", trial: "wide", metrics(grid: 0.60, cls: 0.49), dino: 1.9),
        ], wallSeconds: 0, figures: [])
        let md = TokenizerGenerationRenderer.sslDiagnosisSection(o)
        XCTAssertTrue(md.contains("- The DINO loss ends below half of ln K in 2 of 3 trials (not in: few prototypes)."), md)
        XCTAssertTrue(md.contains("- vtp's CLS probe above the AE's (0.500 ± 0.010): best trial 'wide' 0.490 ± 0.010, difference -0.010 ± 0.014: not shown; no trial's probe"), md)
        XCTAssertTrue(md.contains("- vtp's latent-grid probe above the AE's (0.500 ± 0.010): best trial 'wide' 0.600 ± 0.010, difference +0.100 ± 0.014: holds; above it by two standard errors in: wide."), md)
        XCTAssertTrue(md.contains("| few prototypes | `model.prototypes=4` | 1.000 |"), md)
        XCTAssertTrue(md.contains("| ae (no SSL) | – |"), md)
        XCTAssertFalse(TokenizerGenerationRenderer.rows(o, "fmnistc32").contains { $0.trial != nil }, "trials stay out of the main grid")
    }

    /// The paper's claims on hand-made numbers: VTP's gFD falling more than the AE's is judged apart
    /// from VTP ending below the AE (a worse start can give the larger fall).
    func testPaperClaimsAreJudgedAgainstTheSpread() throws {
        func est(_ v: Double, _ s: Double) -> Estimate { Estimate(value: v, low: v - 2 * s, high: v + 2 * s, std: s, replicates: 100) }
        let metrics = TokenizerMetrics(rFD: est(100, 1), psnr: 20, ssim: 0.5, heldOutText: nil, probeGrid: est(0.5, 0.01),
                                       probeLatent: est(0.5, 0.01), probeCLS: nil, probeSplit: [1, 1, 1], evalImages: 1, fdResolution: 32)
        func row(_ v: String, _ b: Double, _ gfd: Double) -> TokenizerGenerationReport.Row {
            let m = GeneratorReport.Measurement(model: "g", trainingStep: 1, images: 10, steps: 2, guidance: 3, sampler: "euler",
                                                metrics: ["gfd": gfd, "gfd_std": 3], referenceImages: 10, fdResolution: 32, seconds: 1, runID: "r")
            return .init(data: "fmnistc32", variant: v, budget: b, steps: Int(b),
                         cell: TokenizerCell(tokenizer: "\(v)\(b)", tokenizerSeconds: 1, tokenizerMetrics: metrics, generations: [m]))
        }
        var plan = try XCTUnwrap(TokenizerGenerationPlan.named("quick"))
        plan.variants = ["ae", "vtp"]; plan.budgets = [1, 10]
        // VTP falls 500 -> 300 (-200), the AE 400 -> 295 (-105): the larger fall holds, ending below the AE is not shown.
        var o = TokenizerGenerationReport.Outcome(plan: plan, provenance: [:], rows: [
            row("ae", 1, 400), row("vtp", 1, 500), row("ae", 10, 295), row("vtp", 10, 300)], wallSeconds: 0, figures: [])
        var lines = TokenizerGenerationRenderer.paperClaim(o, "fmnistc32")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].contains("change vtp -200.0, ae -105.0, difference -95.0 ± 6.0: **holds**"), lines[0])
        XCTAssertTrue(lines[1].contains("At the largest budget (x10), VTP's gFD below the AE's: vtp 300.0 ± 3.0, ae 295.0 ± 3.0, difference 5.0 ± 4.2: **not shown**"), lines[1])
        // VTP ends well below the AE while falling less: the first does not hold, the second holds.
        o.rows = [row("ae", 1, 600), row("vtp", 1, 400), row("ae", 10, 350), row("vtp", 10, 250)]
        lines = TokenizerGenerationRenderer.paperClaim(o, "fmnistc32")
        XCTAssertTrue(lines[0].contains("difference 100.0 ± 6.0: **does not hold**"), lines[0])
        XCTAssertTrue(lines[1].contains("difference -100.0 ± 4.2: **holds**"), lines[1])
    }

    func testSpearmanRanksWithTies() throws {
        XCTAssertEqual(RankCorrelation.ranks([10, 30, 20, 20]), [1, 4, 2.5, 2.5])
        XCTAssertEqual(try XCTUnwrap(RankCorrelation.spearman([1, 2, 3, 4], [10, 20, 30, 40])), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(RankCorrelation.spearman([1, 2, 3, 4], [9, 4, 1, 0])), -1, accuracy: 1e-12)
        // scipy.stats.spearmanr([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) = 0.8
        XCTAssertEqual(try XCTUnwrap(RankCorrelation.spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])), 0.8, accuracy: 1e-12)
        XCTAssertNil(RankCorrelation.spearman([1, 1, 1], [1, 2, 3]), "a constant sample has no rank correlation")
        XCTAssertNil(RankCorrelation.spearman([1, 2], [1, 2]))
    }
}
