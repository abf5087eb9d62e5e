import ArgumentParser
import Foundation

/// `meshctl report distill`: teacher vs sCM / MeanFlow students, the ×1 vs ×1000 ablation.
struct ReportDistillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Train a teacher and sCM / MeanFlow students (×1, ×1000), evaluate them side by side, write docs/results/distill.md.")
    @Option(help: "Output directory.") var output = "docs/results"
    @Option(help: "Experiment plan: \(DistillReportPlan.names.joined(separator: " or ")) (quick = smoke test, never the committed report).")
    var plan = "standard"
    @Option(help: "Where the report's embedded mesh keeps its store and trained models (reused by the next run).")
    var cache = ".latentmesh/report-cache/distill"

    func validate() throws {
        guard DistillReportPlan.named(plan) != nil else {
            throw ValidationError("--plan '\(plan)': expected one of \(DistillReportPlan.names.joined(separator: ", "))")
        }
    }

    func run() async throws {
        try await DistillReport.run(plan: DistillReportPlan.named(plan)!, outputDir: URL(fileURLWithPath: output),
                                    cacheDir: URL(fileURLWithPath: cache))
    }
}
