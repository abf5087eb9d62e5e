import Datasets
import Foundation
import MeshCtlKit
import MeshTesting
import XCTest

/// `meshctl report distill`: the quick plan end to end through the embedded mesh (tokenizer,
/// teacher, four students, distill.evaluate, generator.generate), and verdicts that follow the numbers.
final class DistillReportTests: XCTestCase {
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
