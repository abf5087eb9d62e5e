import ArgumentParser
import ComputeCore
import Foundation
import MeshKit
import MeshProto
import ReFusion
import DecodeSvc

/// `meshctl decode "PROMPT" --mode refusion` and `meshctl decode train --objective ar`.
public struct DecodeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Generate text with decode-svc (AR, masked diffusion or ReFusion decoding) or train its models.",
        subcommands: [DecodeRunCommand.self, DecodeTrainCommand.self],
        defaultSubcommand: DecodeRunCommand.self)
    public init() {}
}

/// `meshctl decode [run] "PROMPT"`, or `meshctl decode --latents FILE` (tokenizer latents to PNG).
public struct DecodeRunCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Decode a continuation of PROMPT (e.g. \"47+85=\"), or with --latents decode tokenizer latents to PNGs.")

    @Argument(help: "The prompt.") var prompt: String?
    @Option(help: "Tokenizer latents JSON (from `meshctl encode`) to decode to PNG images via tokenizer-svc.") var latents: String?
    @Option(help: "With --latents: tokenizer checkpoint name (default: the one recorded in the JSON).") var checkpoint: String?
    @Option(name: .shortAndLong, help: "With --latents: output directory for the PNGs.") var output = "decoded"
    @Option(help: "Decoder: ar | mdm | refusion.") var mode = "refusion"
    @Option(help: "Model name (default: the mode's name, as installed by `meshctl decode train`).") var model: String?
    @Option(help: "Largest number of new tokens (1...512).") var maxTokens: Int32 = 64
    @Option(help: "ReFusion slot size k (1...32).") var slotSize: Int32 = 4
    @Option(help: "Block size b (1...128, a multiple of the slot size).") var blockSize: Int32 = 8
    @Option(help: "ReFusion tau_slot in (0, 1].") var slotThreshold: Float = 0.5
    @Option(help: "ReFusion tau_token / MDM unmasking threshold in (0, 1].") var tokenThreshold: Float = 0.7
    @Option(help: "Seed (recorded; decoding is greedy).") var seed: UInt64 = 0
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions

    public init() {}

    public func validate() throws {
        if (prompt == nil) == (latents == nil) {
            throw ValidationError("give either a PROMPT (text decoding) or --latents FILE (tokenizer decoding)")
        }
    }

    public func run() async throws {
        let session = try await MeshSession.open(connection)
        if let latents {
            do { try await TokenizerCLI.decodeLatents(session: session, checkpoint: checkpoint, latentsPath: latents, outputDir: output) }
            catch { await session.close(); throw error }
            await session.close()
            return
        }
        guard let prompt else { return }
        var r = Latentmesh_V1_DecodeRunRequest()
        r.prompt = prompt; r.mode = mode; r.modelName = model ?? ""
        r.maxTokens = maxTokens; r.slotSize = slotSize; r.blockSize = blockSize
        r.slotThreshold = slotThreshold; r.tokenThreshold = tokenThreshold; r.seed = seed
        do {
            let a = try await session.client.call("decode.run", r, as: Latentmesh_V1_DecodeRunResponse.self,
                                                  timeout: .seconds(600))
            let x = a.response
            if json {
                printJSON(["text": x.text, "prompt_tokens": x.promptTokens, "generated_tokens": x.generatedTokens,
                           "forwards": x.forwards, "seconds": x.seconds, "run_id": a.reply.runID, "worker": a.reply.worker])
            } else {
                print(prompt + x.text)
                let tps = x.seconds > 0 ? Double(x.generatedTokens) / x.seconds : 0
                print(String(format: "[%@] %d tokens in %d forwards (%.2f tok/forward), %.1f ms, %.0f tok/s, run %@ on %@",
                             mode, x.generatedTokens, x.forwards,
                             x.forwards > 0 ? Double(x.generatedTokens) / Double(x.forwards) : 0,
                             x.seconds * 1000, tps, a.reply.runID, a.reply.worker))
            }
        } catch {
            print("decode: \(error)")
            await session.close()
            throw ExitCode(1)
        }
        await session.close()
    }
}

/// `meshctl decode train --objective ar|mdm|refusion`.
public struct DecodeTrainCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a decode model (refusion starts from the model named 'ar') and install it by name.")

    @Option(help: "Objective: ar | mdm | refusion.") var objective: String
    @Option(help: "Model size: tiny | small | base.") var preset = "small"
    @Option(help: "Optimiser steps (1...200000).") var steps: Int64 = 500
    @Option(help: "Seed of data and initialisation.") var seed: UInt64 = 1
    @Option(help: "Name to install the model under (default: the objective).") var name: String?
    @OptionGroup var connection: ConnectionOptions

    public init() {}

    public func run() async throws {
        let session = try await MeshSession.open(connection)
        var r = Latentmesh_V1_DecodeTrainRequest()
        r.objective = objective; r.preset = preset; r.steps = steps; r.seed = seed; r.modelName = name ?? ""
        do {
            let a = try await session.client.call("decode.train", r, as: Latentmesh_V1_DecodeTrainResult.self,
                                                  timeout: .seconds(24 * 3600))
            let m = a.response.finalMetrics
            print("installed decode model '\(a.response.modelName)' (run \(a.reply.runID)): "
                  + m.keys.sorted().map { "\($0)=\(String(format: "%.4g", m[$0]!))" }.joined(separator: " ")
                  + " checkpoint \(a.response.checkpoint.path)")
        } catch {
            print("decode train: \(error)")
            await session.close()
            throw ExitCode(1)
        }
        await session.close()
    }
}

/// `meshctl report decode`: trains the three models, evaluates them side by side and writes
/// `decode.md` (Table 1 layout, sweeps, where the paper's claims hold).
public enum DecodeReport {
    /// - preset: an experiment plan (`standard` for the committed report, `quick` for a smoke run).
    /// - modelsDir: when given, the trained models are also written there as `<name>/model.safetensors`
    ///   (ar / mdm / refusion; the report cache) for `mesh-bench decode --models`.
    public static func run(outputDir: URL, preset: String, modelsDir: URL? = nil,
                           log: (String) -> Void = { print($0) }) async throws {
        guard let plan = DecodeExperiment.Plan.named(preset) else {
            throw ValidationFailure("unknown decode report preset '\(preset)': expected one of \(DecodeExperiment.Plan.names.joined(separator: ", "))")
        }
        Threads.configure(max(1, ProcessInfo.processInfo.activeProcessorCount))
        let data = try DecodeExperiment.standardData(plan: plan)
        let outcome = try DecodeExperiment(plan: plan, data: data).run(log: log)
        let date = ISO8601DateFormatter().string(from: Date())
        let md = DecodeReportRenderer.markdown(outcome, environment: ["commit": GitInfo.commit, "date": date])
        try FileManager.default.createDirectory(at: outputDir, withIntermediateDirectories: true)
        let file = outputDir.appendingPathComponent("decode.md")
        try md.write(to: file, atomically: true, encoding: .utf8)
        if let modelsDir {
            for m in outcome.models {
                let dir = modelsDir.appendingPathComponent(m.name)
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try m.model.save(to: dir.appendingPathComponent("model.safetensors").path,
                                 extra: ["objective": m.name, "steps": "\(m.steps)", "source": "meshctl report decode"])
            }
        }
        log("wrote \(file.path)")
    }
}
