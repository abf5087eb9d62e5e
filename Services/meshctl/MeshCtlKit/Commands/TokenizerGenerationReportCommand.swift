import ArgumentParser
import Foundation

/// `meshctl report tokenizer-generation [--plan standard|quick]`: every tokenizer variant x budget
/// with the same generator recipe, through an embedded mesh whose home is the report cache;
/// writes docs/results/tokenizer-generation.md with its figures.
struct ReportTokenizerGenerationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer-generation",
        abstract: "Train ae / clip-ae / ssl-ae / vtp at three budgets, a generator on each; write docs/results/tokenizer-generation.md.")
    @OptionGroup var report: ReportPlanOptions

    func validate() throws { try report.validate(plans: TokenizerGenerationPlan.names) }

    func run() async throws {
        let p = TokenizerGenerationPlan.named(report.plan)!
        var options = ConnectionOptions()
        options.embedded = true
        options.home = report.cacheDir("tokenizer-generation").appendingPathComponent(p.name).path
        let out = report.outputDir
        let o = try await MeshSession.with(options) { session in
            try await TokenizerGenerationReport.run(plan: p, session: session, outputDir: out) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
        print("wrote \(out.appendingPathComponent("tokenizer-generation.md").path) (\(String(format: "%.1f", o.wallSeconds / 60)) min)")
    }
}
