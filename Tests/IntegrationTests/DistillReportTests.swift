import Datasets
import Foundation
import MeshCtlKit
import MeshTesting
import XCTest

/// `meshctl report distill`: the quick plan end to end through the embedded mesh (tokenizer,
/// teacher, four students, distill.evaluate, generator.generate), and verdicts that follow the numbers.
final class DistillReportTests: XCTestCase {
    func testQuickPlanWritesTheReportAndReusesItsModels() async throws {
        let dir = TestEnvironment.tempDir("distill-report")
        let results = dir.appendingPathComponent("results"), cache = dir.appendingPathComponent("cache")
        let plan = try XCTUnwrap(DistillReportPlan.named("quick"))
        let out = try await DistillReport.run(plan: plan, outputDir: results, cacheDir: cache, log: { _ in })
        XCTAssertEqual(out.curves.map { "\($0.method)x\(Int($0.scale))" }, ["scmx1", "scmx1000", "meanflowx1", "meanflowx1000"])
        for c in out.curves where c.failure == nil { XCTAssertFalse(c.points.isEmpty, "gradient norms of \(c.method) x\(c.scale)") }
        let finished = out.curves.filter { $0.failure == nil }.count
        XCTAssertEqual(out.rows.count, 1 + finished * plan.studentSteps.count)
        let teacher = try XCTUnwrap(out.rows.first)
        XCTAssertEqual([teacher.method, String(teacher.steps)], ["teacher", "28"])
        for r in out.rows {
            for k in ["gfd", "gfd_std", "class_accuracy", "color_accuracy", "ms_per_image", "ms_per_image_min", "ms_per_image_max"] {
                XCTAssertNotNil(r.metrics[k], "\(r.label) \(k)")
            }
        }
        XCTAssertEqual(out.images, Int(plan.evalImages))
        let md = try String(contentsOf: results.appendingPathComponent("distill.md"), encoding: .utf8)
        for needle in ["meshctl report distill --plan quick", "at commit `", "cores", "## Verdicts", "sCM at 2 steps", "×1000",
                       "MeanFlow at 4 steps", "gFD ± std"] {
            XCTAssertTrue(md.contains(needle), "report lacks '\(needle)'")
        }
        for fig in ["samples.png", "gfd-vs-steps.png", "ms-vs-steps.png", "gradnorm-scm.png", "gradnorm-meanflow.png"] {
            let png = try Data(contentsOf: results.appendingPathComponent("distill/\(fig)"))
            XCTAssertGreaterThan(try PNGCodec.decode([UInt8](png)).width, 100, fig)
            XCTAssertTrue(md.contains("(distill/\(fig))"), "report links \(fig)")
        }
        let grid = try XCTUnwrap(out.grid)
        XCTAssertEqual(grid.rows.map(\.label), ["teacher 28", "scm 1", "scm 2", "scm 4", "meanflow 1", "meanflow 2", "meanflow 4"])
        // A second run reuses every model of the cache (no training run is started).
        var trained = 0
        let again = try await DistillReport.run(plan: plan, outputDir: results, cacheDir: cache) { line in
            if line.hasPrefix("training") || line.hasPrefix("distilling") { trained += 1 }
        }
        XCTAssertEqual(trained, out.curves.filter { $0.failure != nil }.count)
        XCTAssertEqual(again.rows.count, out.rows.count)
    }

    /// The verdicts are computed: moving the student's gFD across the 10 % line flips the sentence.
    func testVerdictsFollowTheNumbers() throws {
        var o = DistillReportOutcome(plan: try XCTUnwrap(DistillReportPlan.named("quick")))
        func row(_ method: String, _ steps: Int, gfd: Double, cls: Double, ms: Double) -> DistillReportOutcome.Row {
            DistillReportOutcome.Row(label: "\(method)\(steps)", model: method, method: method, scale: 1, steps: steps, guidance: 3,
                                     metrics: ["gfd": gfd, "gfd_std": 0.1, "class_accuracy": cls, "color_accuracy": 0.9, "ms_per_image": ms])
        }
        o.rows = [row("teacher", 28, gfd: 10, cls: 0.9, ms: 280), row("scm", 2, gfd: 10.5, cls: 0.89, ms: 20),
                  row("meanflow", 4, gfd: 13, cls: 0.8, ms: 40)]
        var md = DistillReportRenderer.markdown(o, figures: [:])
        XCTAssertTrue(md.contains("sCM at 2 steps (×1): gFD 10.50 ± 0.10 vs the teacher's 10.00 ± 0.10 (+5.0 %"), md)
        XCTAssertTrue(md.contains("**meets** the ≤ 10 % target"))
        XCTAssertTrue(md.contains("**within** 3 points"))
        XCTAssertTrue(md.contains("MeanFlow at 4 steps (×1): gFD 13.00") && md.contains("**misses** the ≤ 15 % target"))
        XCTAssertTrue(md.contains("**more than** 3 points below"))
        XCTAssertTrue(md.contains("×14.0 faster"))
        o.rows[1].metrics["gfd"] = 12
        md = DistillReportRenderer.markdown(o, figures: [:])
        XCTAssertTrue(md.contains("(+20.0 %") && md.contains("**misses** the ≤ 10 % target"))
        // The ×1000 ablation: a failed ×1000 run, or a 2× larger late gradient norm, is reported as the instability.
        o.curves = [DistillReportOutcome.Curve(method: "scm", scale: 1, points: (1...10).map { ($0, 1.0, 0.5) }),
                    DistillReportOutcome.Curve(method: "scm", scale: 1000, points: (1...10).map { ($0, 3.0, 0.5) })]
        XCTAssertTrue(DistillReportRenderer.scaleVerdict(o, method: "scm").contains("**is shown**"))
        o.curves[1].points = (1...10).map { ($0, 1.2, 0.5) }
        XCTAssertTrue(DistillReportRenderer.scaleVerdict(o, method: "scm").contains("**is not shown**"))
        o.curves[1].failure = "loss is not finite at step 4"
        XCTAssertTrue(DistillReportRenderer.scaleVerdict(o, method: "scm").contains("did not finish"))
    }
}
