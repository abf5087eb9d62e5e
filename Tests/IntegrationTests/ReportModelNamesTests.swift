import MeshCtlKit
import XCTest

/// Report caches key their models by training recipe: a changed plan never reuses the old models.
final class ReportModelNamesTests: XCTestCase {
    func testNamesFollowTheRecipe() {
        let tok = ReportModelNames.tokenizer("report-standard-tokenizer", preset: "vtp-fmnistc32-s", steps: 7200, seed: 0)
        // FNV-1a 32 of "tokenizer|vtp-fmnistc32-s|7200|0", computed independently (Python).
        XCTAssertEqual(tok, "report-standard-tokenizer-d98b496d", "stable across builds, so caches stay valid")
        XCTAssertNotEqual(tok, ReportModelNames.tokenizer("report-standard-tokenizer", preset: "vtp-fmnistc32-s", steps: 600, seed: 0))
        XCTAssertNotEqual(tok, ReportModelNames.tokenizer("report-standard-tokenizer", preset: "vtp-fmnistc32-m", steps: 7200, seed: 0))
        XCTAssertNotEqual(tok, ReportModelNames.tokenizer("report-standard-tokenizer", preset: "vtp-fmnistc32-s", steps: 7200, seed: 1))
        // An edited preset (its resolved configuration in the recipe) gets a new name; none given keeps the old names.
        let withConfig = ReportModelNames.tokenizer("report-standard-tokenizer", preset: "vtp-fmnistc32-s", steps: 7200, seed: 0, config: "{a}")
        XCTAssertNotEqual(withConfig, tok)
        XCTAssertNotEqual(withConfig, ReportModelNames.tokenizer("report-standard-tokenizer", preset: "vtp-fmnistc32-s", steps: 7200, seed: 0,
                                                                config: "{b}"))
        func gen(_ steps: Int, _ limit: Int, _ tokenizer: String) -> String {
            ReportModelNames.generator("g", preset: "flowgen-s", steps: steps, trainLimit: limit, seed: 0, tokenizer: tokenizer)
        }
        XCTAssertEqual(gen(2400, 20000, tok), gen(2400, 20000, tok))
        XCTAssertEqual(Set([gen(2400, 20000, tok), gen(800, 20000, tok), gen(2400, 0, tok), gen(2400, 20000, "other"),
                            ReportModelNames.generator("g", preset: "flowgen-s", steps: 2400, trainLimit: 20000, seed: 0, tokenizer: tok,
                                                       config: "{c}")]).count, 5)
        // The plans' names change with their budgets.
        var plan = DistillReportPlan.named("standard")!
        let teacher = plan.teacherName, student = plan.studentName("scm", scale: 1)
        plan.generatorSteps += 1
        XCTAssertNotEqual(plan.teacherName, teacher)
        XCTAssertNotEqual(plan.studentName("scm", scale: 1), student, "a student follows its teacher")
    }
}
