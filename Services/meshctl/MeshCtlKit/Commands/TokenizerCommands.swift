import ArgumentParser
import Datasets
import Foundation
import MeshKit
import MeshProto
import RunStore
import TokenizerSvc
import VTP

/// `meshctl train tokenizer --preset NAME [--steps N]` (group `train`; other services add subcommands).
public struct TrainCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a model through the mesh.", subcommands: [TrainTokenizerCommand.self])
    public init() {}
}

/// Sends `tokenizer.train` and shows a progress bar until the run ends.
struct TrainTokenizerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer", abstract: "Train a VTP tokenizer preset (ae, clip-ae, ssl-ae, vtp).")
    @Option(help: "Preset, e.g. vtp-fmnist32-s (see `--list-presets`).") var preset = "vtp-fmnist32-s"
    @Option(help: "Steps (0 = the preset's).") var steps: Int64 = 0
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Checkpoint name (default: the preset).") var name: String?
    @Flag(help: "Continue from the newest checkpoint registered under the name.") var resume = false
    @Option(help: "Request id (idempotency key); default a fresh one.") var requestID: String?
    @Flag(help: "List presets and exit.") var listPresets = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        if listPresets { VTPPresets.names.forEach { print($0) }; return }
        do { _ = try VTPPresets.resolve(preset) } catch { throw ValidationError("\(error)") }
        let session = try await MeshSession.open(connection)
        var req = Latentmesh_V1_TokenizerTrainRequest()
        req.preset = preset; req.steps = steps; req.seed = seed; req.checkpointName = name ?? ""; req.resume = resume
        req.meta.requestID = requestID ?? UUID().uuidString.lowercased()
        let watcher = Task { await TokenizerCLI.watchProgress(store: session.store, requestID: req.meta.requestID) }
        do {
            let a = try await session.client.call("tokenizer.train", req, as: Latentmesh_V1_TokenizerTrainResult.self,
                                                  timeout: .seconds(7 * 86_400))
            watcher.cancel()
            let m = a.response.finalMetrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.4g", $0.value))" }
            print("\nrun \(a.reply.runID): checkpoint '\(a.response.checkpointName)' sha256 \(a.response.checkpoint.sha256) after \(a.response.steps) steps")
            print("final: " + m.joined(separator: " "))
        } catch {
            watcher.cancel()
            print("\ntokenizer.train: \(error)")
            await session.close()
            throw ExitCode(1)
        }
        await session.close()
    }
}

/// `meshctl encode FILES... --checkpoint NAME -o latents.json`.
public struct EncodeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "encode", abstract: "Encode PNG images to tokenizer latents (JSON).")
    @Argument(help: "PNG files (each the checkpoint's image size).") var files: [String]
    @Option(help: "Checkpoint name.") var checkpoint: String
    @Option(name: .shortAndLong, help: "Output JSON file.") var output = "latents.json"
    @OptionGroup var connection: ConnectionOptions
    public init() {}

    public func run() async throws {
        guard !files.isEmpty else { throw ValidationError("give at least one PNG file") }
        let session = try await MeshSession.open(connection)
        defer { Task { await session.close() } }
        var req = Latentmesh_V1_EncodeRequest()
        req.checkpointName = checkpoint
        req.imagesPng = try files.map { f in
            guard let d = FileManager.default.contents(atPath: f) else { throw ValidationError("cannot read \(f)") }
            return d
        }
        let a = try await session.client.call("tokenizer.encode", req, as: Latentmesh_V1_EncodeResponse.self, timeout: .seconds(600))
        let items: [[String: Any]] = zip(files, a.response.latents).map { f, l in
            ["file": f, "shape": l.shape.map(Int.init), "values": l.values.map(Double.init)]
        }
        let data = try JSONSerialization.data(withJSONObject: ["checkpoint": checkpoint, "latents": items], options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: output))
        print("wrote \(a.response.latents.count) latent(s) of shape \(a.response.latents.first?.shape ?? []) to \(output)")
    }
}

/// `meshctl eval tokenizer CHECKPOINT`: rFD, PSNR, SSIM, zero-shot and linear probes.
public struct EvalTokenizerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tokenizer", abstract: "Evaluate a tokenizer checkpoint (a registered name or a .safetensors path).")
    @Argument(help: "Checkpoint name or file.") var checkpoint: String
    @Option(help: "Validation images for reconstruction metrics.") var images = 500
    @Option(help: "EfficientNet input resolution for FD-EffNet.") var fdResolution = 96
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions
    public init() {}

    public func run() async throws {
        let path = try TokenizerCLI.checkpointPath(checkpoint, home: URL(fileURLWithPath: connection.home))
        let tok = try VTPTokenizer(checkpointPath: path)
        var ev = TokenizerEvaluator()
        ev.reconstructionImages = images; ev.fdResolution = fdResolution
        let m = try ev.evaluate(tok, data: try VTPData(config: tok.config), text: try TextEmbeddingCache.miniLM())
        if json {
            let d = try JSONSerialization.data(withJSONObject: m.dictionary.merging(["eval_images": Double(m.evalImages)]) { a, _ in a },
                                               options: [.sortedKeys])
            print(String(decoding: d, as: UTF8.self))
            return
        }
        print("tokenizer \(checkpoint) (\(tok.config.preset)):")
        for (k, v) in m.dictionary.sorted(by: { $0.key < $1.key }) { print(String(format: "  %-13@ %.4f", k as NSString, v)) }
    }
}

/// Helpers shared by the tokenizer commands.
public enum TokenizerCLI {
    /// `meshctl decode --latents FILE`: decodes a latents JSON (from `meshctl encode`) to PNGs in `outputDir`.
    public static func decodeLatents(session: MeshSession, checkpoint: String?, latentsPath: String, outputDir: String) async throws {
        guard let data = FileManager.default.contents(atPath: latentsPath),
              let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let items = obj["latents"] as? [[String: Any]] else {
            throw ValidationFailure("\(latentsPath): expected JSON {\"checkpoint\", \"latents\": [{\"shape\", \"values\"}]}")
        }
        guard let name = checkpoint ?? obj["checkpoint"] as? String else {
            throw ValidationFailure("no checkpoint given and none recorded in \(latentsPath)")
        }
        var req = Latentmesh_V1_DecodeLatentsRequest()
        req.checkpointName = name
        req.latents = try items.enumerated().map { i, it in
            guard let shape = it["shape"] as? [Int], let values = it["values"] as? [Double] else {
                throw ValidationFailure("\(latentsPath): latents[\(i)] needs \"shape\" and \"values\"")
            }
            var l = Latentmesh_V1_Latent()
            l.shape = shape.map(Int32.init); l.values = values.map(Float.init)
            return l
        }
        let a = try await session.client.call("tokenizer.decode", req, as: Latentmesh_V1_DecodeLatentsResponse.self,
                                              timeout: .seconds(600))
        try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        for (i, png) in a.response.imagesPng.enumerated() {
            let base = (items[i]["file"] as? String).map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } ?? "latent-\(i)"
            let out = URL(fileURLWithPath: outputDir).appendingPathComponent("\(base).png")
            try png.write(to: out)
            print(out.path)
        }
    }

    /// A checkpoint file: a path, or a tokenizer name in the embedded mesh's model registry.
    public static func checkpointPath(_ nameOrPath: String, home: URL) throws -> String {
        if nameOrPath.hasSuffix(".safetensors") || nameOrPath.contains("/") {
            guard FileManager.default.fileExists(atPath: nameOrPath) else { throw ValidationFailure("no file \(nameOrPath)") }
            return nameOrPath
        }
        let store = try RunStores.open(url: "sqlite:" + home.appendingPathComponent("mesh.sqlite").path)
        defer { store.close() }
        let artifacts = try ArtifactStore(root: home.appendingPathComponent("artifacts"), store: store)
        guard let e = try store.model(name: nameOrPath), e.service == "tokenizer" else {
            throw ValidationFailure("no tokenizer model named '\(nameOrPath)' in \(home.path)/mesh.sqlite (see `meshctl models list`)")
        }
        return try artifacts.url(sha256: e.sha256).path
    }

    /// Polls the audit for the run of `requestID` and draws its progress until cancelled.
    static func watchProgress(store: RunStore, requestID: String) async {
        let bar = ProgressBar()
        var runID: String?
        var seen = 0
        while !Task.isCancelled {
            if runID == nil { runID = (try? store.run(requestID: requestID))?.runID }
            if let id = runID, let events = try? store.events(runID: id, limit: 100_000) {
                for e in events.dropFirst(seen) where e.type == "progress" {
                    if let o = try? JSONSerialization.jsonObject(with: Data(e.payloadJSON.utf8)) as? [String: Any] {
                        bar.update(step: o["step"] as? Int ?? 0, total: o["total"] as? Int ?? 0,
                                   metrics: (o["metrics"] as? [String: Double] ?? [:]).filter { $0.key.hasPrefix("loss") },
                                   rate: o["items_per_s"] as? Double ?? 0)
                    }
                }
                seen = events.count
            }
            try? await Task.sleep(nanoseconds: 300_000_000)
        }
    }
}
