import Datasets
import Foundation
import MeshCtlKit
import MeshTesting
import XCTest

/// `meshctl report personalize --plan quick` end to end on an embedded mesh in a temporary home:
/// frozen models trained through the mesh, tuning, TI / DTI / TI-rescaled runs, figures and the
/// markdown with provenance and computed verdicts.
final class PersonalizeReportTests: XCTestCase {
    func testQuickPlanWritesTheReport() async throws {
        let home = TestEnvironment.tempDir("report-personalize-home"), out = TestEnvironment.tempDir("report-personalize-out")
        let options = try ConnectionOptions.parse(["--home", home.path, "--embedded"])
        let outcome = try await MeshSession.with(options) { session in
            try await PersonalizeReport.run(outputDir: out, planName: "quick", session: session, log: { _ in })
        }
        let plan = outcome.plan
        XCTAssertEqual(plan.name, "quick")
        XCTAssertEqual(outcome.runs.count, plan.concepts * (1 + 3 * plan.seeds.count))
        XCTAssertEqual(outcome.tuning.count, plan.lrSweep.count * plan.kappaSweep.count)
        for r in outcome.runs where r.variant == "dti" || r.variant == "ti-rescaled" {
            XCTAssertEqual(r.scores.norm, outcome.mStar, accuracy: 1e-4 * outcome.mStar, "\(r.variant) keeps ‖e‖ = m*")
        }
        for r in outcome.runs where r.variant == "dti" || r.variant == "ti" {
            XCTAssertEqual(r.norms.count, plan.steps)
            XCTAssertEqual(r.probeSteps, [0] + Array(stride(from: plan.logEvery, through: plan.steps, by: plan.logEvery)))
        }
        for r in outcome.runs {
            XCTAssertNotNil(r.scores.subject); XCTAssertNotNil(r.scores.prompt)
            XCTAssertTrue((0...1).contains(r.scores.positional))
        }
        XCTAssertEqual(outcome.probeCurve.count, plan.probeNormMultiples.count)

        let md = try String(contentsOf: out.appendingPathComponent("personalize.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("--plan quick"))
        XCTAssertTrue(md.contains("commit `"))
        XCTAssertTrue(md.contains("cores"))
        for claim in ["1. TI's norm", "2. DTI's prompt score", "3. TI rescaled", "4. The positional probe"] {
            let line = try XCTUnwrap(md.split(separator: "\n").first { $0.contains(claim) }, claim)
            XCTAssertTrue(["holds", "does not hold", "not shown"].contains { line.contains($0) }, String(line))
        }
        for fig in ["norms.png", "probe-vs-norm.png", "probe-steps.png", "scores.png", "slerp.png", "samples.png"] {
            XCTAssertTrue(md.contains("(personalize/\(fig))"), fig)
            let img = try PNGCodec.decode([UInt8](try Data(contentsOf: out.appendingPathComponent("personalize/\(fig)"))))
            XCTAssertGreaterThan(img.width, 100, fig)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("personalize/outcome.json").path))
    }
}
