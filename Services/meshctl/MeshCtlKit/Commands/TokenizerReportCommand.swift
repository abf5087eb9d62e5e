import ArgumentParser
import Foundation

/// `meshctl report tokenizer [--plan standard|quick]`: every tokenizer variant x budget with the
/// same generator recipe, through an embedded mesh whose home is the report cache; writes
/// docs/results/tokenizer.md with its figures.
struct ReportTokenizerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train ae / clip-ae / ssl-ae / vtp at three budgets, a generator on each; write docs/results/tokenizer.md.")
    @OptionGroup var report: ReportPlanOptions

    func validate() throws { try report.validate(plans: TokenizerGenerationPlan.names) }

    func run() async throws {
        let p = TokenizerGenerationPlan.named(report.plan)!
        try await report.run(area: "tokenizer", file: TokenizerGenerationReport.reportFile) {
            try await TokenizerGenerationReport.run(plan: p, session: $0, outputDir: $1, log: $2).wallSeconds
        }
    }
}

/// `meshctl report rectok [--plan standard|quick]`: RecTok at every latent width with flow semantic
/// distillation on and off, the same generator recipe on each; writes docs/results/rectok.md.
struct ReportRecTokCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rectok",
        abstract: "Train RecTok at d = 8/16/32 with FSD on and off, a generator on each; write docs/results/rectok.md.")
    @OptionGroup var report: ReportPlanOptions

    func validate() throws { try report.validate(plans: RecTokReportPlan.names) }

    func run() async throws {
        let p = RecTokReportPlan.named(report.plan)!
        try await report.run(area: "rectok", file: RecTokReport.reportFile) {
            try await RecTokReport.run(plan: p, session: $0, outputDir: $1, log: $2).wallSeconds
        }
    }
}
