import ArgumentParser
import Datasets
import Foundation
import MeshKit
import MeshProto
import RecTok
import RunStore
import TokenizerSvc
import VTP

/// `meshctl tokenizer train|encode|decode|eval`: tokenizer-svc (VTP and RecTok). Options left
/// unset are sent as 0 / empty so the service applies its own defaults.
public struct TokenizerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tokenizer", abstract: "tokenizer-svc (VTP, RecTok): train, encode images, decode latents, evaluate.",
        subcommands: [Train.self, Encode.self, Decode.self, Eval.self])
    public init() {}

    /// `meshctl tokenizer train --preset NAME`: sends `tokenizer.train` and follows its progress.
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Train a tokenizer preset: VTP (ae, clip-ae, ssl-ae, vtp) or RecTok (rectok-*).")
        @Option(help: "Preset, e.g. vtp-fmnist32-s or rectok-fmnistc32-s (see --list-presets).") var preset: String?
        @Option(help: "Steps (default: the preset's).") var steps: Int64?
        @Option(help: "Seed (default: the service's).") var seed: UInt64?
        @Option(help: "Model name (default: the preset).") var name: String?
        @Option(help: "Train on at most this many train-split images (default: all).") var trainLimit: Int64?
        @Flag(help: "Continue from the model registered under the name.") var resume = false
        @Option(help: "Request id (idempotency key); default a fresh one.") var requestID: String?
        @Option(name: .customLong("set"), help: "Override one field of the preset's configuration, path=value (repeatable), e.g. --set train.sslBatch=32 --set loss.centerMomentum=0.99.")
        var overrides: [String] = []
        @Option(help: "RecTok only: latent channels per token, 1...256 (default: the preset's, 16).") var latentChannels: Int64?
        @Option(help: "RecTok only: flow semantic distillation, on or off (default on).") var fsd: String?
        @Option(help: "RecTok only: semantic teacher, efficientnet-lite0 (default), vtp-trunk or patch-projection (tests).") var teacher: String?
        @Option(help: "RecTok only: the registered VTP tokenizer whose trunk is the teacher (with --teacher vtp-trunk).") var teacherCheckpoint: String?
        @Flag(help: "List presets and exit.") var listPresets = false
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            if listPresets { TokenizerPresets.names.forEach { print($0) }; return }
            let req = try request()
            let a = try await MeshSession.with(connection) { session in
                try await session.callFollowing("tokenizer.train", req, as: Latentmesh_V1_TokenizerTrainResult.self)
            }
            let m = a.response.finalMetrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.4g", $0.value))" }
            print("run \(a.reply.runID): model '\(a.response.checkpointName)' sha256 \(a.response.checkpoint.sha256) after \(a.response.steps) steps")
            print("final: " + m.joined(separator: " "))
        }

        /// The `tokenizer.train` request of these options (unset options as 0 / empty: the service's defaults).
        func request() throws -> Latentmesh_V1_TokenizerTrainRequest {
            guard let preset else { throw ValidationError("--preset is required (see --list-presets)") }
            var req = Latentmesh_V1_TokenizerTrainRequest()
            req.preset = preset; req.steps = steps ?? 0; req.seed = seed ?? 0; req.checkpointName = name ?? ""
            req.resume = resume; req.meta.requestID = requestID ?? ""; req.trainLimit = trainLimit ?? 0
            req.configOverrides = overrides
            req.latentChannels = latentChannels ?? 0; req.fsd = fsd ?? ""; req.teacher = teacher ?? ""
            req.teacherCheckpoint = teacherCheckpoint ?? ""
            return req
        }
    }

    /// `meshctl tokenizer encode FILES... --model NAME -o latents.json`.
    struct Encode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Encode PNG images to tokenizer latents (JSON).")
        @Argument(help: "PNG files (each the model's image size).") var files: [String]
        @Option(help: "Tokenizer model name.") var model: String
        @Option(name: .shortAndLong, help: "Output JSON file.") var output = "latents.json"
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            guard !files.isEmpty else { throw ValidationError("give at least one PNG file") }
            var req = Latentmesh_V1_EncodeRequest()
            req.checkpointName = model
            req.imagesPng = try files.map { f in
                guard let d = FileManager.default.contents(atPath: f) else { throw ValidationError("cannot read \(f)") }
                return d
            }
            let a = try await MeshSession.with(connection) { session in
                try await session.client.call("tokenizer.encode", req, as: Latentmesh_V1_EncodeResponse.self, timeout: .seconds(600))
            }
            let items: [[String: Any]] = zip(files, a.response.latents).map { f, l in
                ["file": f, "shape": l.shape.map(Int.init), "values": l.values.map(Double.init)]
            }
            let data = try JSONSerialization.data(withJSONObject: ["checkpoint": model, "latents": items], options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: output))
            print("wrote \(a.response.latents.count) latent(s) of shape \(a.response.latents.first?.shape ?? []) to \(output)")
        }
    }

    /// `meshctl tokenizer decode LATENTS.json -o out/`: latents (from `tokenizer encode`) -> PNGs.
    struct Decode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decode tokenizer latents (JSON) to PNG images.")
        @Argument(help: "Latents JSON written by `meshctl tokenizer encode`.") var latents: String
        @Option(help: "Tokenizer model name (default: the one recorded in the JSON).") var model: String?
        @Option(name: .shortAndLong, help: "Output directory for the PNGs.") var output = "decoded"
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: latents),
                  let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let items = obj["latents"] as? [[String: Any]] else {
                throw ValidationFailure("\(latents): expected JSON {\"checkpoint\", \"latents\": [{\"shape\", \"values\"}]}")
            }
            guard let name = model ?? obj["checkpoint"] as? String else {
                throw ValidationFailure("no --model given and none recorded in \(latents)")
            }
            var req = Latentmesh_V1_DecodeLatentsRequest()
            req.checkpointName = name
            req.latents = try items.enumerated().map { i, it in
                guard let shape = it["shape"] as? [Int], let values = it["values"] as? [Double] else {
                    throw ValidationFailure("\(latents): latents[\(i)] needs \"shape\" and \"values\"")
                }
                var l = Latentmesh_V1_Latent()
                l.shape = shape.map(Int32.init); l.values = values.map(Float.init)
                return l
            }
            let a = try await MeshSession.with(connection) { session in
                try await session.client.call("tokenizer.decode", req, as: Latentmesh_V1_DecodeLatentsResponse.self,
                                              timeout: .seconds(600))
            }
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            for (i, png) in a.response.imagesPng.enumerated() {
                let base = (items[i]["file"] as? String).map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } ?? "latent-\(i)"
                let out = URL(fileURLWithPath: output).appendingPathComponent("\(base).png")
                try png.write(to: out)
                print(out.path)
            }
        }
    }

    /// `meshctl tokenizer eval MODEL`: rFD, PSNR, SSIM, held-out-template text classification and linear probes.
    struct Eval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a tokenizer (a registered model name or a .safetensors path).")
        @Argument(help: "Model name or checkpoint file.") var model: String
        @Option(help: "Validation images for reconstruction metrics (rFD, PSNR, SSIM).") var images = 2000
        @Option(help: "EfficientNet input resolution for FD-EffNet.") var fdResolution = 96
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let path = try checkpointPath(model)
            let tok = try LatentTokenizers.load(checkpointPath: path)
            var ev = TokenizerEvaluator()
            ev.reconstructionImages = images; ev.fdResolution = fdResolution
            let m = try ev.evaluate(tok, data: try VTPData(tokenizer: tok), text: try TextEmbeddingCache.miniLM())
            if json {
                printJSON(m.dictionary.merging(["eval_images": Double(m.evalImages)]) { a, _ in a })
                return
            }
            print("tokenizer \(model) (\(tok.presetName)):")
            for (k, v) in m.dictionary.sorted(by: { $0.key < $1.key }) { print(String(format: "  %-13@ %.4f", k as NSString, v)) }
        }

        /// A checkpoint file: a path, or a tokenizer in the model registry (embedded or stack store).
        func checkpointPath(_ nameOrPath: String) throws -> String {
            if nameOrPath.hasSuffix(".safetensors") || nameOrPath.contains("/") {
                guard FileManager.default.fileExists(atPath: nameOrPath) else { throw ValidationFailure("no file \(nameOrPath)") }
                return nameOrPath
            }
            let store = try openStore(connection)
            defer { store.close() }
            guard let e = try store.model(name: nameOrPath), e.service == "tokenizer" else {
                throw ValidationFailure("no tokenizer model named '\(nameOrPath)' in the \(store.backend) store (see `meshctl models list`)")
            }
            let artifacts = try ArtifactStore(root: URL(fileURLWithPath: connection.home).appendingPathComponent("artifacts"), store: store)
            return try artifacts.url(sha256: e.sha256).path
        }
    }
}
