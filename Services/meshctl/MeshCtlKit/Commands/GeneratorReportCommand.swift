import ArgumentParser
import Foundation

/// `meshctl report generator [--plan standard|quick]`: trains (or reuses) a tokenizer and a
/// generator through an embedded mesh whose home is the report cache, measures them with
/// `generator.evaluate`, and writes docs/results/generator.md with its figures.
struct ReportGeneratorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generator",
        abstract: "Train and evaluate FlowGen on fmnist-color (guidance and steps sweeps, training curve); write docs/results/generator.md.")
    @Option(help: "Output directory.") var output = "docs/results"
    @Option(help: "Experiment plan: \(GeneratorReportPlan.names.joined(separator: ", ")) (standard = the committed report, ~1.5-2 h on 2 cores).")
    var plan = "standard"
    @Option(help: "Home of the report's embedded mesh (models, caches and measurements are reused from here).")
    var home = ".latentmesh/report-cache/generator"

    func validate() throws {
        guard GeneratorReportPlan.named(plan) != nil else {
            throw ValidationError("--plan '\(plan)': expected one of \(GeneratorReportPlan.names.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let p = GeneratorReportPlan.named(plan)!
        var options = ConnectionOptions()
        options.embedded = true
        options.home = URL(fileURLWithPath: home).appendingPathComponent(p.name).path
        let out = URL(fileURLWithPath: output)
        let o = try await MeshSession.with(options) { session in
            try await GeneratorReport.run(plan: p, session: session, outputDir: out) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
        print("wrote \(out.appendingPathComponent("generator.md").path) (\(String(format: "%.1f", o.wallSeconds / 60)) min)")
    }
}
