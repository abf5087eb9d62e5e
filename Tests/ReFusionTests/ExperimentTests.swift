import XCTest
@testable import ReFusion

/// The decode experiment's quick plan end to end: trains AR, MDM, ReFusion and the
/// paper-labels ablation (tiny, a few steps), evaluates every decoder and renders the report.
final class ExperimentTests: XCTestCase {
    func testQuickPlanRunsEndToEndAndRendersTheReport() throws {
        let plan = try XCTUnwrap(DecodeExperiment.Plan.named("quick"))
        let data = try DecodeExperiment.standardData(plan: plan)   // needs fortunes-min (scripts/bootstrap)
        var stages: [String] = []
        let o = try DecodeExperiment(plan: plan, data: data).run(log: { stages.append($0) })
        XCTAssertEqual(o.models.map(\.name), ["ar", "mdm", "refusion", DecodeExperiment.paperLabelsModel])
        XCTAssertTrue(o.models.allSatisfy { $0.finalLoss.isFinite && $0.finalLoss > 0 })
        let decoders = Set(o.main.map(\.decoder))
        XCTAssertEqual(decoders.count, 6)
        for r in o.main {
            XCTAssertEqual(r.examples, r.task == "arithmetic" ? plan.arithmeticTestCount : plan.textTestCount, r.decoder)
            XCTAssertGreaterThan(r.forwards, 0, r.decoder)
            if r.decoder != "ReFusion, draft-keeping II-b" { XCTAssertEqual(r.unverifiedCommits, 0, r.decoder) }
        }
        XCTAssertEqual(o.slotSweep.map(\.k), plan.slotSweep)
        XCTAssertEqual(o.thresholdSweep.map(\.tau), plan.thresholdSweep)
        let md = DecodeReportRenderer.markdown(o, environment: ["commit": "abc", "date": "today"])
        XCTAssertTrue(md.contains("experiment plan `quick`"))
        XCTAssertTrue(md.contains("| ReFusion, draft-keeping II-b |"))
        XCTAssertTrue(md.contains("Does ReFusion training keep AR ability?"))
        XCTAssertTrue(md.contains("Decoder variants: the faithful decoder"))
    }
}
