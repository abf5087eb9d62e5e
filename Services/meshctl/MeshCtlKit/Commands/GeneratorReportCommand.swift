import ArgumentParser
import Foundation

/// `meshctl report generator [--plan standard|quick]`: trains (or reuses) a tokenizer and a
/// generator through an embedded mesh whose home is the report cache, measures them with
/// `generator.evaluate`, and writes docs/results/generator.md with its figures.
struct ReportGeneratorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generator",
        abstract: "Train and evaluate FlowGen on fmnist-color (guidance and steps sweeps, training curve); write docs/results/generator.md.")
    @OptionGroup var report: ReportPlanOptions

    func validate() throws { try report.validate(plans: GeneratorReportPlan.names) }

    func run() async throws {
        let p = GeneratorReportPlan.named(report.plan)!
        try await report.run(area: "generator", file: "generator.md") {
            try await GeneratorReport.run(plan: p, session: $0, outputDir: $1, log: $2).wallSeconds
        }
    }
}
