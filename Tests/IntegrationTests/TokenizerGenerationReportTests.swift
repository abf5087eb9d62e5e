import Evaluation
import Foundation
import MeshCtlKit
import MeshTesting
import XCTest

/// `meshctl report tokenizer-generation`'s quick plan end to end on an embedded mesh: tokenizers
/// at two budgets, a generator on each (two seeds at the largest budget), tokenizer and generation
/// metrics with spreads, the figures, computed verdicts; a rerun reuses everything.
final class TokenizerGenerationReportTests: XCTestCase {
    func testQuickPlanWritesTheReport() async throws {
        let home = TestEnvironment.tempDir("tokgen-home"), out = TestEnvironment.tempDir("tokgen-out")
        defer { try? FileManager.default.removeItem(at: home); try? FileManager.default.removeItem(at: out) }
        let plan = try XCTUnwrap(TokenizerGenerationPlan.named("quick"))
        var options = ConnectionOptions()
        options.embedded = true
        options.home = home.path
        var lines: [String] = []
        let o = try await MeshSession.with(options) { session in
            try await TokenizerGenerationReport.run(plan: plan, session: session, outputDir: out) { lines.append($0) }
        }
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
        for f in o.figures { XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("tokenizer-generation/\(f)").path), f) }
        let md = try String(contentsOf: out.appendingPathComponent("tokenizer-generation.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("--plan quick") && md.contains(o.provenance["commit"] ?? "?"), md)
        XCTAssertTrue(md.contains("| vtp | x2 | 16 |"), md)
        XCTAssertTrue(md.contains("The paper's claim (VTP's gFD falls with tokenizer compute more than the AE's)"), md)
        XCTAssertTrue(md.contains("Spearman ρ"), md)
        // Rerun: models and measurements come from the home.
        lines.removeAll()
        let again = try await MeshSession.with(options) { session in
            try await TokenizerGenerationReport.run(plan: plan, session: session, outputDir: out) { lines.append($0) }
        }
        XCTAssertFalse(lines.contains { $0.hasPrefix("training") || $0.hasPrefix("evaluating") }, "\(lines)")
        XCTAssertEqual(again.rows.map(\.gFD.value), o.rows.map(\.gFD.value))
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
