import Evaluation
import Foundation
@testable import MeshCtlKit
import MeshTesting
import XCTest

/// `meshctl report generator`'s quick plan end to end on an embedded mesh: trains tiny models,
/// measures through generator.evaluate, writes the markdown and figures; a second run reuses
/// the models and measurements.
final class GeneratorReportTests: XCTestCase {
    func testQuickPlanWritesTheReport() async throws {
        let bed = ReportTestBed("genreport")
        defer { bed.remove() }
        let out = bed.out
        let plan = try XCTUnwrap(GeneratorReportPlan.named("quick"))
        let (o, _) = try await bed.run { try await GeneratorReport.run(plan: plan, session: $0, outputDir: $1, log: $2) }
        XCTAssertEqual(o.headline.images, plan.headlineImages)
        XCTAssertEqual(o.guidance.map(\.guidance), plan.guidanceSweep)
        XCTAssertEqual(o.steps["heun"]?.map(\.steps), plan.stepsSweep)
        XCTAssertEqual(o.steps["euler"]?.map(\.steps), plan.stepsSweep)
        XCTAssertEqual(o.checkpoints.map(\.trainingStep), [10, 20], "the run's checkpoint at step 10 and the final model")
        XCTAssertFalse(o.lossCurve.isEmpty)
        XCTAssertTrue(o.headline.gFD.value.isFinite && o.headline.gFD.value > 0)
        for f in o.figures + ["generator.md"] {
            let path = f.hasSuffix(".md") ? out.appendingPathComponent(f) : out.appendingPathComponent("generator").appendingPathComponent(f)
            XCTAssertTrue(FileManager.default.fileExists(atPath: path.path), path.path)
        }
        XCTAssertTrue(o.figures.contains("gfd-steps.png") && o.figures.contains("loss.png") && o.figures.contains("samples.png"), "\(o.figures)")
        let md = try String(contentsOf: out.appendingPathComponent("generator.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("experiment plan `quick`"))
        XCTAssertTrue(md.contains(o.provenance["commit"] ?? "?"))
        XCTAssertTrue(md.contains("| heun | 4 |"))
        XCTAssertTrue(md.contains("Class accuracy at guidance 3.0"), md)
        XCTAssertTrue(md.contains("target"), md)
        XCTAssertTrue(md.contains("| anchor: real training images |") && md.contains("| anchor: tokenizer reconstructions of them |"), md)
        XCTAssertTrue(md.contains("the reconstructions' class accuracy"), md)
        XCTAssertTrue(md.contains("tokenizer training ") && md.contains("`generator.evaluate` runs"), md)
        // Rerun: models and measurements come from the home; the numbers are the same.
        let (again, log) = try await bed.run { try await GeneratorReport.run(plan: plan, session: $0, outputDir: $1, log: $2) }
        XCTAssertTrue(ReportTestBed.reusedEverything(log), "\(log)")
        XCTAssertEqual(again.headline.metrics, o.headline.metrics)
    }

    /// Generated vs reconstructed images' class accuracy, on hand-made intervals: below (a share),
    /// overlapping, above (guidance named).
    func testClassAccuracyAgainstTheReconstructionsIsJudgedOnIntervals() {
        func e(_ v: Double, _ lo: Double, _ hi: Double) -> Estimate { Estimate(value: v, low: lo, high: hi, std: 0.01, replicates: 100) }
        let recon = e(0.894, 0.882, 0.908)
        let below = GeneratorReportRenderer.classVersusReconstructions(e(0.833, 0.817, 0.849), recon)
        XCTAssertTrue(below.contains("reaches 93 % of"), below)
        let overlap = GeneratorReportRenderer.classVersusReconstructions(e(0.90, 0.885, 0.915), recon)
        XCTAssertTrue(overlap.contains("not separated"), overlap)
        let above = GeneratorReportRenderer.classVersusReconstructions(e(0.949, 0.939, 0.958), recon)
        XCTAssertTrue(above.contains("above the reconstructions'") && above.contains("guidance"), above)
    }
}
