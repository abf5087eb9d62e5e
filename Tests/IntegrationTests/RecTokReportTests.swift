import Evaluation
import Foundation
@testable import MeshCtlKit
import MeshTesting
@testable import VTP
import XCTest

/// `meshctl report rectok`'s quick plan end to end on an embedded mesh (RecTok at two latent
/// widths with FSD on and off, a generator on each, the figures and computed verdicts; a rerun
/// reuses everything), and its verdicts on hand-made numbers.
final class RecTokReportTests: XCTestCase {
    func testQuickPlanWritesTheReport() async throws {
        let bed = ReportTestBed("rectok")
        defer { bed.remove() }
        let out = bed.out
        let plan = try XCTUnwrap(RecTokReportPlan.named("quick"))
        let (o, _) = try await bed.run { try await RecTokReport.run(plan: plan, session: $0, outputDir: $1, log: $2) }
        XCTAssertEqual(o.rows.map(\.latentChannels), [4, 8, 4, 8])
        XCTAssertEqual(o.rows.map(\.fsd), [true, true, false, false])
        XCTAssertEqual(Set(o.rows.map(\.tokenizer)).count, 4, "one tokenizer per d x FSD")
        for r in o.rows {
            XCTAssertTrue(r.gFD.value.isFinite && r.gFD.value > 0, "d=\(r.latentChannels) fsd=\(r.fsd)")
            XCTAssertNil(r.tokenizerMetrics.probeCLS, "RecTok has no CLS token")
            let h = try XCTUnwrap(r.history)
            XCTAssertEqual(h.series["loss"]?.steps.last, Double(plan.tokenizerSteps))
        }
        for f in o.figures { XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("rectok/\(f)").path), f) }
        let md = try String(contentsOf: out.appendingPathComponent("rectok.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("--plan quick") && md.contains("| 8 | off |") && md.contains("The claim (generation improves with d only when FSD is on)"), md)
        let (again, log) = try await bed.run { try await RecTokReport.run(plan: plan, session: $0, outputDir: $1, log: $2) }
        XCTAssertTrue(ReportTestBed.reusedEverything(log), "\(log)")
        XCTAssertEqual(again.rows.map(\.gFD.value), o.rows.map(\.gFD.value))
        // A fresh machine: no models, store or cache, only the report's folder with its ledger.
        let ledger = out.appendingPathComponent("rectok/ledger")
        let entries = try FileManager.default.contentsOfDirectory(atPath: ledger.path).filter { $0.hasSuffix(".json") }
        XCTAssertEqual(entries.count, 4 + 4 * plan.generatorSeeds.count, "one entry per tokenizer and per generator: \(entries)")
        let fresh = TestEnvironment.tempDir("rectok-fresh-home")
        defer { try? FileManager.default.removeItem(at: fresh) }
        let (resumed, freshLog) = try await bed.run(freshHome: fresh) { try await RecTokReport.run(plan: plan, session: $0, outputDir: $1, log: $2) }
        XCTAssertTrue(ReportTestBed.reusedEverything(freshLog), "\(freshLog)")
        XCTAssertEqual(freshLog.filter { $0.hasSuffix("from the ledger") }.count, entries.count, "\(freshLog)")
        XCTAssertEqual(resumed.rows.map(\.gFD.value), o.rows.map(\.gFD.value))
        XCTAssertEqual(resumed.rows.map(\.tokenizerMetrics.rFD.value), o.rows.map(\.tokenizerMetrics.rFD.value))
        XCTAssertEqual(resumed.rows.map(\.history), o.rows.map(\.history), "training curves travel with the ledger")
        XCTAssertEqual(resumed.rows.flatMap { $0.measuredAt ?? [] }.count, 4, "each cell names the run that measured it")
        let resumedMD = try String(contentsOf: out.appendingPathComponent("rectok.md"), encoding: .utf8)
        XCTAssertTrue(resumedMD.contains("kept in the ledger `rectok/ledger/`"), resumedMD)
    }

    /// The header says how much of an assembled report this run measured; provenance lists every run.
    func testProvenanceOfCellsFromTheLedger() throws {
        let metrics = TokenizerMetrics(rFD: Estimate(value: 1, low: 1, high: 1, std: 0, replicates: 1), psnr: 20, ssim: 0.5, heldOutText: nil,
                                       probeGrid: Estimate(value: 0.5, low: 0.5, high: 0.5, std: 0, replicates: 1),
                                       probeLatent: Estimate(value: 0.5, low: 0.5, high: 0.5, std: 0, replicates: 1),
                                       probeCLS: nil, probeSplit: [1, 1, 1], evalImages: 1, fdResolution: 32)
        func cell(_ measured: [String]) -> TokenizerCell {
            TokenizerCell(tokenizer: "t", tokenizerSeconds: 1, tokenizerMetrics: metrics, generations: [],
                          history: TrainingHistory(series: [:], commit: "t0"), measuredAt: measured)
        }
        let cells = [cell(["a"]), cell(["b"]), cell(["a", "b"])]
        XCTAssertEqual(TokenizerCell.wallTime(90, cells: cells, provenance: ["commit": "b", "dirty": "no"]),
                       "wall time of this run 1.5 min; it measured 2 of the 3 tokenizers (with their generators) and read the others " +
                       "from the ledger, measured by earlier runs")
        XCTAssertEqual(TokenizerCell.wallTime(90, cells: [cell(["b"])], provenance: ["commit": "b"]), "wall time 1.5 min")
        XCTAssertEqual(TokenizerCell.wallTime(90, cells: [cell(["b"])], provenance: ["commit": "b", "dirty": "yes"]),
                       "wall time of this run 1.5 min; it measured 0 of the 1 tokenizers (with their generators) and read the others " +
                       "from the ledger, measured by earlier runs", "a dirty tree is another run")
        let p = TokenizerCell.provenance(cells, ledger: "rectok/ledger")
        XCTAssertTrue(p.hasPrefix("Tokenizers trained at commit `t0` (read from their runs); measured by report runs at commits `a`, `b`."), p)
    }

    func testVerdictsAreComputedFromTheNumbers() throws {
        func est(_ v: Double, _ s: Double) -> Estimate { Estimate(value: v, low: v - 2 * s, high: v + 2 * s, std: s, replicates: 100) }
        func m(_ v: Double, _ s: Double, _ acc: Double) -> GeneratorReport.Measurement {
            GeneratorReport.Measurement(model: "g", trainingStep: 1, images: 10, steps: 2, guidance: 3, sampler: "euler",
                                        metrics: ["gfd": v, "gfd_std": s, "class_accuracy": acc, "class_accuracy_low": acc - 0.0196, "class_accuracy_high": acc + 0.0196],
                                        referenceImages: 10, fdResolution: 32, seconds: 1, runID: "r")
        }
        let metrics = TokenizerMetrics(rFD: est(100, 1), psnr: 20, ssim: 0.5, heldOutText: nil, probeGrid: est(0.5, 0.01),
                                       probeLatent: est(0.5, 0.01), probeCLS: nil, probeSplit: [1, 1, 1], evalImages: 1, fdResolution: 32)
        // Class accuracy of generated images ± 0.01 (a 95 % interval of ± 0.0196): 0.6 with FSD, 0.5 without.
        func row(_ d: Int, _ fsd: Bool, _ gfd: Double) -> RecTokReport.Row {
            .init(latentChannels: d, fsd: fsd, cell: TokenizerCell(tokenizer: "t\(d)\(fsd)", tokenizerSeconds: 1, tokenizerMetrics: metrics,
                                                                    generations: [m(gfd, 5, fsd ? 0.6 : 0.5)]))
        }
        var plan = try XCTUnwrap(RecTokReportPlan.named("quick"))
        plan.latentWidths = [8, 32]
        // FSD on: 500 -> 400 (improves); off: 500 -> 510 (within the spread): the claim holds.
        var o = RecTokReport.Outcome(plan: plan, provenance: [:], rows: [row(8, true, 500), row(32, true, 400), row(8, false, 500), row(32, false, 510)],
                                     wallSeconds: 0, figures: [])
        var text = RecTokReportRenderer.verdict(o).joined(separator: "\n")
        XCTAssertTrue(text.contains("FSD on: gFD d=8 500.0 ± 5.0 -> d=32 400.0 ± 5.0; that generation improves with d: **holds**"), text)
        XCTAssertTrue(text.contains("FSD off: gFD d=8 500.0 ± 5.0 -> d=32 510.0 ± 5.0; that generation improves with d: **not shown**"), text)
        XCTAssertTrue(text.contains("= -110.0 ± 10.0: FSD helps larger latents more: **holds**"), text)
        XCTAssertTrue(text.contains("improves with FSD on holds, without FSD not shown: **holds**"), text)
        // FSD's effect per width: d=32 gFD 400 vs 510 (lower: holds), class accuracy +0.1 (holds), same probe and rFD.
        XCTAssertTrue(text.contains("- d=32, FSD on vs off: gFD -110.0 (holds that FSD lowers it); class accuracy of generated images 0.100 " +
                                    "(holds that FSD raises it); latent-grid probe 0.000 (not shown that FSD raises it); rFD 0.0 (not shown that FSD lowers it)."), text)
        XCTAssertTrue(text.contains("- d=8, FSD on vs off: gFD 0.0 (not shown that FSD lowers it)"), text)
        XCTAssertTrue(text.contains("- Over the 2 widths, FSD lowers gFD at 1 (raises it at 0), raises the class accuracy of generated images at 2 " +
                                    "(lowers it at 0), raises the latent-grid probe at 0, and lowers rFD at 0 (raises it, a reconstruction cost, at 0)"), text)
        // Both improve: the "only" part fails.
        o.rows = [row(8, true, 500), row(32, true, 400), row(8, false, 500), row(32, false, 420)]
        text = RecTokReportRenderer.verdict(o).joined(separator: "\n")
        XCTAssertTrue(text.contains("improves with FSD on holds, without FSD holds: **does not hold**"), text)
    }
}
