import ArgumentParser
import Datasets
import Evaluation
import Foundation
import Models

/// `meshctl data`: list the offline datasets and render contact sheets.
public struct DataCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Offline datasets: list them, render image grids.",
        subcommands: [DataListCommand.self, DataGridCommand.self])

    public init() {}
}

/// `meshctl data list`
public struct DataListCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "list", abstract: "List built-in datasets and their sizes.")

    @Flag(name: .long, help: "Print one JSON object per line.")
    var json = false

    public init() {}

    public func run() throws {
        for info in DatasetCatalog.list() {
            if json {
                var obj: [String: Any] = ["name": info.name, "available": info.available, "source": info.source,
                                          "description": info.description]
                if let c = info.count { obj["count"] = c }
                if let k = info.classes { obj["classes"] = k }
                let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                let size = info.available ? "\(info.count!) images, \(info.classes!) classes" : "NOT INSTALLED (\(info.source))"
                print("\(info.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(size) - \(info.description)")
            }
        }
        if !json { print("(any folder of PNGs with metadata.jsonl {\"file_name\", \"text\"} also works where a dataset is expected)") }
    }
}

/// `meshctl data grid DATASET -o grid.png`
public struct DataGridCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "grid", abstract: "Write a contact sheet of a dataset as PNG.")

    @Argument(help: "Dataset name (see `meshctl data list`) or a folder path.")
    var dataset: String

    @Option(name: .shortAndLong, help: "Output PNG path.")
    var output: String

    @Option(name: .long, help: "Number of images (1...1024).")
    var count = 64

    @Option(name: .long, help: "Columns in the grid (default: square-ish).")
    var columns: Int?

    @Option(name: .long, help: "Cell resolution in pixels (default: the dataset's).")
    var resolution: Int?

    @Flag(name: .long, help: "Draw each image's caption under it.")
    var captions = false

    @Option(name: .long, help: "Seed of the random selection; omit to take the first images.")
    var seed: UInt64?

    public init() {}

    public func validate() throws {
        guard (1...1024).contains(count) else { throw ValidationError("--count must be in 1...1024, got \(count)") }
        if let c = columns, c < 1 { throw ValidationError("--columns must be >= 1, got \(c)") }
        if let r = resolution, !(4...512).contains(r) { throw ValidationError("--resolution must be in 4...512, got \(r)") }
    }

    public func run() throws {
        let ds = try DatasetCatalog.open(dataset, resolution: resolution)
        let n = min(count, ds.count)
        let view: any ImageDataset = seed.map { SubsetDataset.random(ds, count: n, seed: $0) } ?? SubsetDataset(base: ds, indices: Array(0..<n))
        let images = try view.images(at: Array(0..<n))
        let cols = columns ?? Int(Double(n).squareRoot().rounded(.up))
        let caps = captions ? (0..<n).map { view.caption(at: $0) } : nil
        let sheet = try ImageGrid.make(images, columns: cols, captions: caps, textScale: ds.resolution >= 96 ? 2 : 1)
        try PNGCodec.write(sheet, to: output)
        print("wrote \(output): \(n) images of \(ds.name), \(sheet.width)x\(sheet.height)")
    }
}

/// `meshctl eval`: measurement tools.
public struct EvalCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Metrics: FD-EffNet (FID-like) between image sets (tokenizers: `meshctl tokenizer eval`).",
        subcommands: [EvalFDCommand.self])

    public init() {}
}

/// `meshctl eval fd --a DIR_OR_DATASET --b DIR_OR_DATASET`
public struct EvalFDCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fd",
        abstract: "Fréchet distance of EfficientNet-Lite0 pooled features (FD-EffNet; not comparable to Inception FID).")

    @Option(name: .customLong("a"), help: "First set: dataset name or image folder.")
    var a: String

    @Option(name: .customLong("b"), help: "Second set: dataset name or image folder.")
    var b: String

    @Option(name: .long, help: "Images per set (2...70000); a seeded random subset when the set is larger.")
    var limit = 1000

    @Option(name: .long, help: "Network input resolution (32...512); FD values compare only at equal resolution.")
    var resolution = EfficientNetLite0.trainedResolution

    @Option(name: .long, help: "Seed of the subset selection.")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Print a JSON object.")
    var json = false

    public init() {}

    public func validate() throws {
        guard (2...70000).contains(limit) else { throw ValidationError("--limit must be in 2...70000, got \(limit)") }
        guard (32...512).contains(resolution) else { throw ValidationError("--resolution must be in 32...512, got \(resolution)") }
    }

    public func run() throws {
        let fx = try EffNetFeatureExtractor(resolution: resolution)
        let start = Date()
        func feats(_ name: String, _ s: UInt64) throws -> [[Float]] {
            let ds = try DatasetCatalog.open(name)
            let view: any ImageDataset = ds.count > limit ? SubsetDataset.random(ds, count: limit, seed: s) : ds
            return try fx.features(of: view)
        }
        let fa = try feats(a, seed)
        let fb = try feats(b, seed &+ 1)
        let fd = try FrechetDistance.distance(fa, fb)
        let secs = Date().timeIntervalSince(start)
        if json {
            let obj: [String: Any] = ["fd": fd, "a": a, "b": b, "n_a": fa.count, "n_b": fb.count, "resolution": resolution,
                                      "feature": "efficientnet_lite0_pool1280", "seconds": secs]
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "FD-EffNet@%d  %@ (%d) vs %@ (%d): %.4f   [%.1f s]", resolution, a, fa.count, b, fb.count, fd, secs))
        }
    }
}

/// `meshctl embed-text "SENTENCE" --json`
public struct EmbedTextCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "embed-text", abstract: "Sentence embedding from all-MiniLM-L6-v2 (384-d, L2-normalised).")

    @Argument(help: "The sentence to embed.")
    var sentence: String

    @Flag(name: .long, help: "Print {\"embedding\": [384 floats]}.")
    var json = false

    public init() {}

    public func run() throws {
        let enc = try MiniLMEncoder()
        let emb = enc.embed(sentence)
        if json {
            let obj: [String: Any] = ["embedding": emb.map { Double($0) }]
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj), as: UTF8.self))
        } else {
            let ids = enc.tokenize(sentence)
            print("tokens (\(ids.count)): \(enc.tokenizer.tokens(ids).joined(separator: " "))")
            print("embedding: 384-d, L2 norm \(String(format: "%.4f", emb.reduce(0) { $0 + $1 * $1 }.squareRoot()))")
            print("first 8: " + emb.prefix(8).map { String(format: "%.5f", $0) }.joined(separator: " "))
        }
    }
}
