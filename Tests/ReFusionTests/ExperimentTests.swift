import TestKit
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
        XCTAssertTrue(md.contains("| Unverified commits | Below-threshold commits |"))
        XCTAssertTrue(md.contains("| held-out cookies (reference) |"))
        XCTAssertFalse(md.contains("## Longer exact-match tasks"), "the quick plan has no extra tasks")
        for r in o.main where r.task == "text" {
            XCTAssertGreaterThanOrEqual(r.chargedBitsPerChar, r.judgeBitsPerChar - 1e-9, r.decoder)
        }
    }

    /// The quick plan with the longer tasks and the full fortunes corpus: trained on, evaluated
    /// for every decoder, and rendered in their own table.
    func testQuickPlanWithLongTasksAndFullCorpus() throws {
        try TestRequirement.require(FortuneCorpus.fullFiles().count > FortuneCorpus.defaultFiles.count,
                                    "fortunes", hint: "scripts/bootstrap installs the Debian package fortunes")
        var plan = try XCTUnwrap(DecodeExperiment.Plan.named("quick"))
        plan.extraTasks = [.longAddition, .sorting]; plan.corpus = .full
        plan.slotSweep = [4]; plan.thresholdSweep = [0.7]; plan.arithmeticTestCount = 2
        plan.trainExamplesPerTask = 500; plan.arSteps = 8; plan.mdmSteps = 8; plan.refusionSteps = 4
        plan.parameters.slotThreshold = 0; plan.parameters.tokenThreshold = 0   // whole blocks per forward: a fast wiring check
        let data = try DecodeExperiment.standardData(plan: plan)
        XCTAssertEqual(data.extra.map(\.task), [.longAddition, .sorting])
        XCTAssertGreaterThan(data.textTrain.count, 3000, "the full corpus")
        let o = try DecodeExperiment(plan: plan, data: data).run()
        for task in ["longAddition", "sorting"] {
            let rows = o.main.filter { $0.task == task }
            XCTAssertEqual(rows.count, 6, task)
            for r in rows {
                XCTAssertEqual(r.examples, plan.arithmeticTestCount, "\(task) \(r.decoder)")
                XCTAssertGreaterThan(r.forwards, 0)
                XCTAssertLessThanOrEqual(r.exactResponse, r.exactMatch + 1e-12, "a whole-response match is an answer match")
            }
        }
        let md = DecodeReportRenderer.markdown(o)
        XCTAssertTrue(md.contains("Debian package `fortunes`"))
        XCTAssertTrue(md.contains("## Longer exact-match tasks"))
        XCTAssertTrue(md.contains("| ReFusion | long addition (3-4 digits, step by step) |"))
        XCTAssertTrue(md.contains("| MDM (LLaDA-style) | sorting (12-20 two-digit numbers) |"))
    }
}
