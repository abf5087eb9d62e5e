import ArgumentParser
import Foundation

/// `meshctl report distill`: teacher vs sCM / MeanFlow students, the ×1 vs ×1000 ablation.
struct ReportDistillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Train a teacher and sCM / MeanFlow students (×1, ×1000), evaluate them side by side, write docs/results/distill.md.")
    @OptionGroup var report: ReportPlanOptions

    func validate() throws { try report.validate(plans: DistillReportPlan.names) }

    func run() async throws {
        try await DistillReport.run(plan: DistillReportPlan.named(report.plan)!, outputDir: report.outputDir,
                                    cacheDir: report.cacheDir("distill"))
    }
}
