import ArgumentParser
import Foundation
import ReFusion

/// `meshctl report AREA`: regenerates a committed report under docs/results/.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Train, evaluate and write an experiment report (docs/results/AREA.md).",
        subcommands: [ReportTokenizerCommand.self, ReportRecTokCommand.self, ReportDecodeCommand.self, ReportGeneratorCommand.self, ReportDistillCommand.self,
                      ReportPersonalizeCommand.self,
                      ReportReliabilityCommand.self])
}

/// `meshctl report decode`: AR vs masked diffusion vs ReFusion (Table 1 layout, sweeps).
struct ReportDecodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Train AR / MDM / ReFusion models (learning-rate sweep, seeds, early stopping), evaluate the decoders, write docs/results/decode.md; resumable from its cache.")

    @Option(help: "Output directory.") var output = "docs/results"
    @Option(help: "Experiment plan: standard (the committed report), quick (seconds, smoke test) or long (longer tasks, full fortunes, base model; writes decode-long.md).") var plan = "standard"
    @Option(help: "Where trained models and measurements are kept and reused, named by recipe (default .latentmesh/report-cache/decode/PLAN).") var cache: String?
    @Option(help: "Compute threads (1...64; default: every core).") var threads: Int?
    @Option(help: "Only train (or continue, or load) these seeds' models, comma-separated (e.g. 3), and stop: nothing measured, no report. For a second process beside the run that measures; give both --threads 1 on 2 cores.")
    var trainSeeds: String?

    func validate() throws {
        guard DecodeExperiment.Plan.names.contains(plan) else {
            throw ValidationError("--plan '\(plan)': expected one of \(DecodeExperiment.Plan.names.joined(separator: ", "))")
        }
        if let threads, !(1...64).contains(threads) { throw ValidationError("--threads \(threads): expected 1...64") }
        _ = try seeds()
    }

    /// `--train-seeds` parsed and checked against the plan's seeds.
    func seeds() throws -> [UInt64]? {
        guard let trainSeeds else { return nil }
        let planSeeds = DecodeExperiment.Plan.named(plan)?.seeds ?? []
        let parts = trainSeeds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let seeds = parts.compactMap(UInt64.init)
        guard !parts.isEmpty, seeds.count == parts.count, seeds.allSatisfy(planSeeds.contains) else {
            throw ValidationError("--train-seeds '\(trainSeeds)': expected comma-separated seeds of plan '\(plan)' (\(planSeeds.map(String.init).joined(separator: ", ")))")
        }
        return seeds
    }

    func run() async throws {
        try await DecodeReport.run(outputDir: URL(fileURLWithPath: output), preset: plan,
                                   cacheDir: cache.map { URL(fileURLWithPath: $0) }, threads: threads, trainOnlySeeds: try seeds())
    }
}
