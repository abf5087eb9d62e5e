import ArgumentParser
import ComputeCore
import Foundation
import MeshKit
import MeshProto
import ReFusion
import DecodeSvc
import Evaluation

/// `meshctl decode run|train`: decode-svc (ReFusion vs AR vs masked diffusion). Options left
/// unset are sent as 0 / empty so the service applies its own defaults (see `meshctl describe decode`).
public struct DecodeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "decode-svc: generate text (AR, masked diffusion or ReFusion decoding) or train its models.",
        subcommands: [Run.self, Train.self])
    public init() {}

    /// `meshctl decode run "PROMPT" [--mode refusion]`.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decode a continuation of PROMPT (e.g. \"47+85=\").")
        @Argument(help: "The prompt.") var prompt: String
        @Option(help: "Decoder: ar | mdm | refusion (default: the service's).") var mode: String?
        @Option(help: "Model name (default: the mode's name, as installed by `meshctl decode train`).") var model: String?
        @Option(help: "Largest number of new tokens (1...512).") var maxTokens: Int32?
        @Option(help: "ReFusion slot size k (1...32).") var slotSize: Int32?
        @Option(help: "Block size b (1...128, a multiple of the slot size).") var blockSize: Int32?
        @Option(help: "ReFusion tau_slot in (0, 1].") var slotThreshold: Float?
        @Option(help: "ReFusion tau_token / MDM unmasking threshold in (0, 1].") var tokenThreshold: Float?
        @Option(help: "Seed (recorded; decoding is greedy).") var seed: UInt64?
        @Option(help: "ReFusion variant: faithful (default) | draft-keeping | draft-keeping-refill.") var variant: String?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            var r = Latentmesh_V1_DecodeRunRequest()
            r.prompt = prompt; r.mode = mode ?? ""; r.modelName = model ?? ""
            r.maxTokens = maxTokens ?? 0; r.slotSize = slotSize ?? 0; r.blockSize = blockSize ?? 0
            r.slotThreshold = slotThreshold ?? 0; r.tokenThreshold = tokenThreshold ?? 0; r.seed = seed ?? 0
            r.refusionVariant = variant ?? ""
            let a = try await MeshSession.with(connection) { session in
                try await session.client.call("decode.run", r, as: Latentmesh_V1_DecodeRunResponse.self, timeout: .seconds(600))
            }
            let x = a.response
            if json {
                printJSON(["text": x.text, "prompt_tokens": x.promptTokens, "generated_tokens": x.generatedTokens,
                           "forwards": x.forwards, "seconds": x.seconds, "unverified_commits": x.unverifiedCommits,
                           "below_threshold_commits": x.belowThresholdCommits, "run_id": a.reply.runID, "worker": a.reply.worker])
                return
            }
            print(prompt + x.text)
            let tps = x.seconds > 0 ? Double(x.generatedTokens) / x.seconds : 0
            print(String(format: "[%@] %d tokens in %d forwards (%.2f tok/forward), %.1f ms, %.0f tok/s, "
                         + "%d unverified, %d below-threshold commits, run %@ on %@",
                         mode ?? "default mode", x.generatedTokens, x.forwards,
                         x.forwards > 0 ? Double(x.generatedTokens) / Double(x.forwards) : 0,
                         x.seconds * 1000, tps, x.unverifiedCommits, x.belowThresholdCommits, a.reply.runID, a.reply.worker))
        }
    }

    /// `meshctl decode train --objective ar|mdm|refusion`: follows the run's progress.
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a decode model (refusion starts from the model named 'ar') and register it by name.")
        @Option(help: "Objective: ar | mdm | refusion.") var objective: String
        @Option(help: "Model size: tiny | small | base (default: the service's).") var preset: String?
        @Option(help: "Optimiser steps (1...200000; default: the service's).") var steps: Int64?
        @Option(help: "Seed of data and initialisation (default: the service's).") var seed: UInt64?
        @Option(help: "Name to register the model under (default: the objective).") var name: String?
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            var r = Latentmesh_V1_DecodeTrainRequest()
            r.objective = objective; r.preset = preset ?? ""; r.steps = steps ?? 0; r.seed = seed ?? 0; r.modelName = name ?? ""
            let a = try await MeshSession.with(connection) { session in
                try await session.callFollowing("decode.train", r, as: Latentmesh_V1_DecodeTrainResult.self)
            }
            let m = a.response.finalMetrics
            print("registered decode model '\(a.response.modelName)' (run \(a.reply.runID)): "
                  + m.keys.sorted().map { "\($0)=\(String(format: "%.4g", m[$0]!))" }.joined(separator: " ")
                  + " checkpoint \(a.response.checkpoint.sha256)")
        }
    }
}

/// `meshctl report decode`: trains the three model kinds (learning-rate sweep, seeds, early
/// stopping), evaluates them side by side and writes `decode.md` (or `decode-long.md`) with its
/// accuracy-throughput figure. Every model and measurement is cached under `cacheDir`, named by
/// its recipe, and every training record and measurement set is kept in the ledger committed beside
/// the report (`decode/ledger/`, `decode-long/ledger/`), so rerunning the same command resumes
/// where an earlier session stopped, on this machine or a fresh one.
public enum DecodeReport {
    /// - preset: an experiment plan (`standard` for the committed report, `quick` for a smoke run,
    ///   `long` for the longer tasks; it writes `decode-long.md` so the standard report stays).
    /// - cacheDir: the report cache (default `.latentmesh/report-cache/decode/<plan>`); the first
    ///   seed's models are also exported there as `bench/<ar|mdm|refusion>/model.safetensors`
    ///   for `mesh-bench decode --models`.
    /// - threads: compute threads (default: every core).
    /// - trainOnlySeeds: only make these seeds' models (train, continue or load them; stored like a
    ///   full run's), measure nothing and write no report: a second process training later seeds
    ///   beside the run that measures (both with `threads` 1 on 2 cores).
    /// - trainKinds: with `trainOnlySeeds`, only these model kinds (`ar`, `mdm`, `refusion`).
    /// - measureOnlySeeds: only measure these seeds (their models must be trained, or are trained
    ///   here), store the measurement sets and stop: no report. The full run then reuses them.
    /// - log: progress lines (stage, model, step/total, held-out loss); default standard error.
    public static func run(outputDir: URL, preset: String, cacheDir: URL? = nil, threads: Int? = nil, trainOnlySeeds: [UInt64]? = nil,
                           trainKinds: [String]? = nil, measureOnlySeeds: [UInt64]? = nil,
                           log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) async throws {
        guard let plan = DecodeExperiment.Plan.named(preset) else {
            throw ValidationFailure("unknown decode report preset '\(preset)': expected one of \(DecodeExperiment.Plan.names.joined(separator: ", "))")
        }
        let threadCount = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
        Threads.configure(threadCount)
        var provenance = ReportProvenance.current().dictionary   // before anything is written
        provenance["threads"] = String(threadCount)   // timings depend on it (`DecodeExperiment.evaluationRecipe`)
        let cache = cacheDir ?? URL(fileURLWithPath: ".latentmesh/report-cache/decode/\(preset)")
        let data = try DecodeExperiment.standardData(plan: plan)
        let base = preset == "long" ? "decode-long" : "decode"
        let ledger = ReportLedger.of(outputDir: outputDir, figureFolder: base)
        let experiment = DecodeExperiment(plan: plan, data: data, cacheDirectory: cache, ledger: ledger, provenance: provenance)
        if let seeds = trainOnlySeeds {
            let made = try experiment.prepare(seeds: seeds, kinds: trainKinds, log: log)
            log("trained or loaded \(made.count) models of seeds \(seeds.map(String.init).joined(separator: ", ")); nothing measured, no report written")
            return
        }
        if let seeds = measureOnlySeeds {
            let runs = try experiment.measure(seeds: seeds, log: log)
            log("measured seeds \(runs.map { String($0.seed) }.joined(separator: ", ")) (ledger \(ledger.directory.path)); no report written")
            return
        }
        let outcome = try experiment.run(log: log)
        log("cache \(cache.path) and ledger \(ledger.directory.path): reused \(outcome.cacheReused), computed \(outcome.cacheComputed) models and measurement sets")
        let figures = try DecodeReportRenderer.writeCurveFigures(outcome, to: outputDir.appendingPathComponent("figures"),
                                                                 base: "\(base)-accuracy-throughput")
        let md = DecodeReportRenderer.markdown(outcome, environment: provenance,
                                               figures: figures.mapValues { "figures/\($0)" })
        let file = outputDir.appendingPathComponent("\(base).md")
        try md.write(to: file, atomically: true, encoding: .utf8)
        for kind in ["ar", "mdm", "refusion"] {
            guard let m = outcome.models.first(where: { $0.kind == kind && $0.seed == plan.seeds[0] }) else { continue }
            guard m.isMaterialized else {   // its record and measurements came from the ledger: nothing to export
                log("not exported for mesh-bench: \(kind) seed \(m.seed) (from the ledger; delete its ledger entries to train it here)")
                continue
            }
            let dir = cache.appendingPathComponent("bench/\(kind)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try m.model().save(to: dir.appendingPathComponent("model.safetensors").path,
                             extra: ["objective": kind, "recipe": m.name, "source": "meshctl report decode"])
        }
        log("wrote \(file.path)")
    }
}
