import Evaluation
import Foundation
@testable import MeshCtlKit
import MeshTesting
@testable import VTP
import XCTest

/// `meshctl report tokenizer`'s quick plan end to end on an embedded mesh: tokenizers
/// at two budgets, a generator on each (two seeds at the largest budget), tokenizer and generation
/// metrics with spreads, the figures, computed verdicts; a rerun reuses everything.
final class TokenizerGenerationReportTests: XCTestCase {
    func testQuickPlanWritesTheReport() async throws {
        let bed = ReportTestBed("tokgen")
        defer { bed.remove() }
        let out = bed.out
        let plan = try XCTUnwrap(TokenizerGenerationPlan.named("quick"))
        let (o, _) = try await bed.run { try await TokenizerGenerationReport.run(plan: plan, session: $0, outputDir: $1, log: $2) }
        XCTAssertEqual(o.rows.count, plan.variants.count * plan.budgets.count)
        XCTAssertEqual(o.rows.map(\.steps), [8, 8, 16, 16], "x1 and x2 of 8 steps for each variant")
        XCTAssertEqual(o.rows.map(\.generations.count), [1, 1, 2, 2], "two generator seeds at the largest budget")
        XCTAssertEqual(Set(o.rows.map(\.tokenizer)).count, 4, "one tokenizer per variant x budget")
        for r in o.rows {
            XCTAssertTrue(r.gFD.value.isFinite && r.gFD.value > 0, "\(r.variant) x\(r.budget)")
            XCTAssertEqual(r.tokenizerMetrics.probeSplit, plan.probeSplit)
            XCTAssertEqual(r.tokenizerMetrics.heldOutText == nil, r.variant == "ae", "only CLIP variants get the text score")
        }
        let seeds = o.rows.last!.generations
        XCTAssertNotEqual(seeds[0].model, seeds[1].model)
        for f in o.figures { XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("tokenizer/\(f)").path), f) }
        XCTAssertTrue(o.figures.contains("recon-x2.png") && o.figures.contains("loss_dino-x2.png") && o.figures.contains("dino_batch_entropy-x1.png"),
                      "reconstruction grids and training curves: \(o.figures)")
        for r in o.rows {
            let h = try XCTUnwrap(r.history, "the tokenizer run's history is read from the store")
            XCTAssertEqual(h.series["loss"]?.steps.last, Double(r.steps), "the last progress report is the last step")
            XCTAssertEqual(h.series["loss_dino"] == nil, r.variant == "ae", "only SSL variants have a DINO loss")
            XCTAssertNotNil(h.commit)
        }
        let md = try String(contentsOf: out.appendingPathComponent("tokenizer.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("## The SSL heads (DINO)") && md.contains("| vtp | x2 |"), md)
        XCTAssertTrue(md.contains("![reconstructions x2](tokenizer/recon-x2.png)"), md)
        XCTAssertTrue(md.contains("--plan quick") && md.contains(o.provenance["commit"] ?? "?"), md)
        XCTAssertTrue(md.contains("| vtp | x2 | 16 |"), md)
        XCTAssertTrue(md.contains("The paper's claim (VTP's gFD falls with tokenizer compute more than the AE's)"), md)
        XCTAssertTrue(md.contains("Spearman ρ"), md)
        // Rerun: models and measurements come from the home.
        let (again, log) = try await bed.run { try await TokenizerGenerationReport.run(plan: plan, session: $0, outputDir: $1, log: $2) }
        XCTAssertTrue(ReportTestBed.reusedEverything(log), "\(log)")
        XCTAssertEqual(again.rows.map(\.gFD.value), o.rows.map(\.gFD.value))
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
            return .init(variant: v, budget: b, steps: Int(b), tokenizer: "\(v)\(b)", tokenizerSeconds: 1, tokenizerMetrics: m,
                         generations: [], history: history)
        }
        var plan = try XCTUnwrap(TokenizerGenerationPlan.named("quick"))
        plan.variants = ["ae", "ssl-ae", "vtp"]; plan.budgets = [1, 3]
        let o = TokenizerGenerationReport.Outcome(plan: plan, provenance: [:], rows: [
            row("ae", 1, metrics(grid: 0.50, cls: 0.50, rfd: 100)), row("vtp", 1, metrics(grid: 0.60, cls: 0.51, rfd: 120)),
            row("ae", 3, metrics(grid: 0.50, cls: 0.50, rfd: 80)), row("vtp", 3, metrics(grid: 0.70, cls: 0.40, rfd: 90)),
            row("ssl-ae", 3, metrics(grid: 0.45, cls: 0.30, rfd: 95), dino: Array(repeating: 1.7, count: 20)),
        ], wallSeconds: 0, figures: [])
        let text = TokenizerGenerationRenderer.understandingVerdict(o).joined(separator: "\n")
        XCTAssertTrue(text.contains("x1, a semantic latent (vtp's probe above the AE's): on the latent grid vtp − ae = +0.100 ± 0.014 (holds); on the CLS +0.010 ± 0.014 (not shown)"), text)
        XCTAssertTrue(text.contains("on the CLS -0.100 ± 0.014 (does not hold)"), text)
        XCTAssertTrue(text.contains("x3, SSL alone (ssl-ae's probe above the AE's): CLS -0.200 ± 0.014 (does not hold)"), text)
        XCTAssertTrue(text.contains("difference +0.100 ± 0.020: holds"), text)
        XCTAssertTrue(text.contains("ae from x1 to x3: rFD 100.0 -> 80.0 (holds that it improves)"), text)
        // ssl-xs has 64 prototypes: ln 64 = 4.159; teacher entropy 1.5 < 0.9 ln K, batch entropy 3.0 -> not collapsed, e^3 = 20.1.
        XCTAssertTrue(text.contains("ssl-ae at x3: DINO loss 1.700 vs ln K = 4.159; teacher entropy 1.500, batch-mean entropy 3.000: not collapsed (sharp per-image targets spread over about 20.1 prototypes)"), text)
        let table = TokenizerGenerationRenderer.sslTable(o)
        XCTAssertTrue(table.contains("| ssl-ae | x3 | 1.700 | 4.159 | 1.500 | 3.000 | 20.1 of 64 |"), table)
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
