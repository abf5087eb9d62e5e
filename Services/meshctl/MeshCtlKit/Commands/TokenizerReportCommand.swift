import ArgumentParser
import Foundation
import VTP

/// `meshctl report tokenizer`: trains (or reuses) the four tokenizer variants at two budgets,
/// evaluates them and writes docs/results/tokenizer.md with figures.
public enum TokenizerReport {
    /// Runs the experiment; `budgets` multiply the preset's steps; checkpoints are cached in
    /// `cacheDir/<VTP source hash>/` (default `.latentmesh/report-cache/tokenizer`), each named
    /// by preset, budget and resolved-config hash, so an interrupted report resumes and a
    /// changed library or config never reuses a stale checkpoint.
    public static func run(outputDir: URL, budgets: [Double] = [1, 3], size: String = "s", seed: UInt64 = 0,
                           cacheDir: URL? = nil) async throws {
        var r = VTPReport()
        r.budgets = budgets; r.size = size; r.seed = seed
        r.provenance = ReportProvenance.current().dictionary
        let source = try ReportProvenance.sourceHash(of: "Services/tokenizer-svc/VTP")
        let cache = (cacheDir ?? URL(fileURLWithPath: ".latentmesh/report-cache/tokenizer"))
            .appendingPathComponent("vtp-" + source.prefix(16))
        let entries = try r.run(outputDir: outputDir, cacheDir: cache) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        print("wrote \(outputDir.appendingPathComponent("tokenizer.md").path) (\(entries.count) runs)")
    }
}

/// `meshctl report tokenizer` (the lead registers it under the report command group).
struct ReportTokenizerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer", abstract: "Train and evaluate ae / clip-ae / ssl-ae / vtp at two budgets; write docs/results/tokenizer.md.")
    @Option(help: "Output directory.") var output = "docs/results"
    @Option(help: "Step budgets as multipliers of the preset's steps, comma separated.") var budgets = "1,3"
    @Option(help: "Preset size (xs, s, m).") var size = "s"
    @Option(help: "Seed shared by all runs.") var seed: UInt64 = 0
    @Option(help: "Checkpoint cache directory.") var cache = ".latentmesh/report-cache/tokenizer"

    func run() async throws {
        let b = budgets.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !b.isEmpty, b.allSatisfy({ $0 > 0 && $0 <= 100 }) else {
            throw ValidationError("--budgets must be comma-separated numbers in (0, 100], got '\(budgets)'")
        }
        try await TokenizerReport.run(outputDir: URL(fileURLWithPath: output), budgets: b, size: size, seed: seed,
                                      cacheDir: URL(fileURLWithPath: cache))
    }
}
