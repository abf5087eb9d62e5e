import ArgumentParser
import Datasets
import FlowGen
import Foundation
import GeneratorSvc
import MeshKit
import MeshProto
import RunStore

/// `meshctl generator train|eval`: the generator's noun group.
public struct GeneratorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "generator", abstract: "Train and evaluate FlowGen text-to-image generators (generator-svc).",
        subcommands: [GeneratorTrainCommand.self, GeneratorEvalCommand.self])
    public init() {}
}

/// Sends `generator.train` and shows a progress bar until the run ends.
struct GeneratorTrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a FlowGen preset on a tokenizer's latents of its own dataset (or another captioned one).")
    @Option(help: "Preset: \(FlowGenPresets.names.joined(separator: ", ")).") var preset = FlowGenPresets.defaultName
    @Option(help: "Registered tokenizer (VTP or RecTok) whose latent space the generator learns.") var tokenizer: String
    @Option(help: "Steps (0 = the preset's).") var steps: Int64 = 0
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Model name (default \(GeneratorService.defaultModel)).") var name: String?
    @Option(help: "Dataset (default: the one the tokenizer was trained on).") var dataset: String?
    @Option(help: "Use at most this many training images (0 = all).") var trainLimit: Int64 = 0
    @Option(help: "Preview grid every N steps (0 = preset's).") var previewEvery: Int32 = 0
    @Flag(help: "Continue the model registered under the name.") var resume = false
    @Option(help: "Request id (idempotency key); default a fresh one.") var requestID: String?
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let session = try await MeshSession.open(connection)
        var req = Latentmesh_V1_GeneratorTrainRequest()
        req.preset = preset; req.tokenizerCheckpoint = tokenizer; req.steps = steps; req.seed = seed
        req.modelName = name ?? ""; req.dataset = dataset ?? ""; req.trainLimit = trainLimit
        req.previewEvery = previewEvery; req.resume = resume
        req.meta.requestID = requestID ?? UUID().uuidString.lowercased()
        let watcher = Task { _ = try? await ProgressFollower(store: session.store, target: .requestID(req.meta.requestID)).follow() }
        do {
            let a = try await session.client.call("generator.train", req, as: Latentmesh_V1_GeneratorTrainResult.self,
                                                  timeout: .seconds(7 * 86_400))
            watcher.cancel()
            let m = a.response.finalMetrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.4g", $0.value))" }
            print("\nrun \(a.reply.runID): generator '\(a.response.modelName)' on tokenizer '\(a.response.tokenizer)', " +
                  "sha256 \(a.response.checkpoint.sha256) after \(a.response.steps) steps")
            print("final: " + m.joined(separator: " "))
        } catch {
            watcher.cancel()
            print("\ngenerator.train: \(error)")
            await session.close()
            throw ExitCode(1)
        }
        await session.close()
    }
}

/// `meshctl generate "a red dress" "a blue sneaker" --n 4 --steps 28 --guidance 3 --seed 0 -o grid.png`.
public struct GenerateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate images from prompts (a captioned grid, or one PNG per image with --out-dir).")
    @Argument(help: "Prompts (1-64).") var prompts: [String]
    @Option(help: "Images per prompt.") var n: Int32 = 4
    @Option(help: "Sampler steps (generators 1-1000, default 28; distilled students 1-4, default the student's own).") var steps: Int32?
    @Option(help: "Classifier-free guidance scale (0-20; a distilled student has its guidance built in and ignores this).") var guidance: Float = 3
    @Option(help: "Seed: image j of every prompt uses seed + j.") var seed: UInt64 = 0
    @Option(help: "Sampler of a generator: euler (default) or heun (a distilled student uses its own rule).") var sampler: String?
    @Option(help: "Generator or distilled student model (default \(GeneratorService.defaultModel), what scripts/run trains).") var model: String?
    @Option(name: .shortAndLong, help: "Captioned grid PNG (rows = prompts).") var output = "grid.png"
    @Option(help: "Write one PNG per image here instead (prompt-major order).") var outDir: String?
    @Option(help: "Priority 0-9: above 0 the request goes to the urgent lane, served before queued normal ones.")
    var priority: Int32 = 0
    @OptionGroup var connection: ConnectionOptions
    public init() {}

    public func run() async throws {
        let session = try await MeshSession.open(connection)
        var req = Latentmesh_V1_GenerateRequest()
        req.prompts = prompts; req.n = n; req.steps = steps ?? 0; req.guidance = guidance; req.seed = seed
        req.sampler = sampler ?? ""; req.modelName = model ?? ""
        req.meta.requestID = UUID().uuidString.lowercased()
        req.meta.runID = UUID().uuidString.lowercased()   // known while queued: meshctl watch RUN_ID --service generator
        req.meta.priority = priority
        let queue = session.mode == .stack
            ? QueueWatch(transport: session.transport, store: session.store, service: "generator", priority: priority) : nil
        print("run \(req.meta.runID)")
        let watcher = Task {
            _ = try? await ProgressFollower(store: session.store, target: .requestID(req.meta.requestID), queue: queue).follow()
        }
        let a: MeshClient.Answer<Latentmesh_V1_GenerateResponse>
        do {
            a = try await session.client.call("generator.generate", req, as: Latentmesh_V1_GenerateResponse.self, timeout: .seconds(3600))
            watcher.cancel()
        } catch {
            watcher.cancel()
            print("\ngenerator.generate: \(error)")
            await session.close()
            throw ExitCode(1)
        }
        let r = a.response
        print("\nrun \(a.reply.runID): \(r.images.count) image(s) from '\(r.modelName)' (tokenizer '\(r.tokenizer)'), " +
              "\(r.steps) \(r.sampler) steps, guidance \(r.guidance), \(String(format: "%.2f", r.seconds)) s")
        if let dir = outDir {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for g in r.images {
                let slug = String(g.prompt.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40))
                let path = "\(dir)/\(String(format: "%02d", g.promptIndex))-\(slug)-\(g.sample).png"
                try g.png.write(to: URL(fileURLWithPath: path))
                print("\(path)  prompt \"\(g.prompt)\" seed \(g.seed)")
            }
        } else {
            let images = try r.images.map { try PNGCodec.decode([UInt8]($0.png)) }
            let captions = r.images.map { "\($0.prompt) #\($0.sample)" }
            let grid = try ImageGrid.make(images, columns: Int(max(n, 1)), cellSize: 64, captions: captions)
            try PNGCodec.write(grid, to: output)
            print("grid: \(output)")
        }
        await session.close()
    }
}
