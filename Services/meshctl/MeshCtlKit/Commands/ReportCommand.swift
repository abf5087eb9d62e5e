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
    @Option(help: "With --train-seeds: only these model kinds, comma-separated (ar, mdm, refusion), so that two processes can split one seed's models.")
    var trainKinds: String?
    @Option(help: "Only measure these seeds, comma-separated (their models trained or loaded first), store the measurements in the ledger and stop: no report. The full run reuses them.")
    var measureSeeds: String?

    func validate() throws {
        guard DecodeExperiment.Plan.names.contains(plan) else {
            throw ValidationError("--plan '\(plan)': expected one of \(DecodeExperiment.Plan.names.joined(separator: ", "))")
        }
        if let threads, !(1...64).contains(threads) { throw ValidationError("--threads \(threads): expected 1...64") }
        _ = try seeds()
        _ = try kinds()
        _ = try seeds(measureSeeds, option: "--measure-seeds")
        if trainSeeds != nil, measureSeeds != nil { throw ValidationError("--train-seeds and --measure-seeds: give one of them") }
        if trainKinds != nil, trainSeeds == nil { throw ValidationError("--train-kinds: only with --train-seeds") }
    }

    /// `--train-seeds` parsed and checked against the plan's seeds.
    func seeds() throws -> [UInt64]? { try seeds(trainSeeds, option: "--train-seeds") }

    /// A comma-separated seed list of `option`, checked against the plan's seeds.
    func seeds(_ list: String?, option: String) throws -> [UInt64]? {
        guard let list else { return nil }
        let planSeeds = DecodeExperiment.Plan.named(plan)?.seeds ?? []
        let parts = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let seeds = parts.compactMap(UInt64.init)
        guard !parts.isEmpty, seeds.count == parts.count, seeds.allSatisfy(planSeeds.contains) else {
            throw ValidationError("\(option) '\(list)': expected comma-separated seeds of plan '\(plan)' (\(planSeeds.map(String.init).joined(separator: ", ")))")
        }
        return seeds
    }

    /// `--train-kinds` parsed and checked.
    func kinds() throws -> [String]? {
        guard let trainKinds else { return nil }
        let kinds = trainKinds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !kinds.isEmpty, kinds.allSatisfy(DecodeExperiment.seedModelKinds.contains) else {
            throw ValidationError("--train-kinds '\(trainKinds)': expected comma-separated model kinds (\(DecodeExperiment.seedModelKinds.joined(separator: ", ")))")
        }
        return kinds
    }

    func run() async throws {
        try await DecodeReport.run(outputDir: URL(fileURLWithPath: output), preset: plan,
                                   cacheDir: cache.map { URL(fileURLWithPath: $0) }, threads: threads, trainOnlySeeds: try seeds(),
                                   trainKinds: try kinds(), measureOnlySeeds: try seeds(measureSeeds, option: "--measure-seeds"))
    }
}
