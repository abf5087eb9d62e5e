import ComputeCore
import Datasets
import Foundation

/// The class judge of prompt-attribute accuracy: a small CNN trained on REAL `fmnist-color`
/// training images only (never on generated ones). Its input is each pixel's largest channel
/// (the garment's brightness; every palette colour has a channel near 1), so the judge does
/// not depend on the tint and colour is scored separately by `ColorPalette.classify`.
///
/// Network: conv3x3(1->c0) ReLU, conv3x3/2(c0->c1) ReLU, conv3x3/2(c1->c2) ReLU, flatten,
/// Linear(c2*(R/4)^2 -> hidden) ReLU, Linear(hidden -> classes).
public final class GarmentClassifier: Module {
    /// Architecture and input size.
    public struct Config: Codable, Sendable, Equatable {
        public var resolution = 32
        public var channels = [16, 32, 64]
        public var hidden = 128
        public var classes = 10
        public init() {}
        /// A few-second configuration for tests.
        public static var tiny: Config { var c = Config(); c.channels = [8, 8, 16]; c.hidden = 32; return c }
        public var json: String { String(data: try! JSONEncoder.sorted.encode(self), encoding: .utf8)! }
    }

    public let config: Config
    let conv1: Conv2d, conv2: Conv2d, conv3: Conv2d
    let fc1: Linear, fc2: Linear

    public init(config: Config = Config(), seed: UInt64 = 0) throws {
        guard config.resolution >= 8, config.resolution % 4 == 0 else {
            throw EvaluationError.invalidArgument(field: "resolution", message: "must be a multiple of 4 >= 8, got \(config.resolution)")
        }
        guard config.channels.count == 3, config.channels.allSatisfy({ $0 >= 1 }), config.hidden >= 1, config.classes >= 2 else {
            throw EvaluationError.invalidArgument(field: "channels", message: "need 3 positive conv widths, hidden >= 1, classes >= 2")
        }
        self.config = config
        var rng = RNG(seed: seed)
        let c = config.channels, side = config.resolution / 4
        conv1 = Conv2d(1, c[0], kernel: 3, padding: 1, rng: &rng)
        conv2 = Conv2d(c[0], c[1], kernel: 3, stride: 2, padding: 1, rng: &rng)
        conv3 = Conv2d(c[1], c[2], kernel: 3, stride: 2, padding: 1, rng: &rng)
        fc1 = Linear(c[2] * side * side, config.hidden, rng: &rng)
        fc2 = Linear(config.hidden, config.classes, rng: &rng)
    }

    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([], [("conv1", conv1), ("conv2", conv2), ("conv3", conv3), ("fc1", fc1), ("fc2", fc2)])
    }

    /// Logits. x [B, 1, R, R] -> [B, classes]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = conv3(conv2(conv1(x).relu()).relu()).relu()       // [B, c2, R/4, R/4]
        return fc2(fc1(h.reshaped([x.shape[0], h.count / x.shape[0]])).relu())
    }

    /// Network input: per-pixel max over channels, resized to the configured resolution. -> [B, 1, R, R]
    public func input(_ images: [ImageBuffer]) -> Tensor {
        let r = config.resolution
        var out = [Float](repeating: 0, count: images.count * r * r)
        for (b, img) in images.enumerated() {
            let im = img.width == r && img.height == r ? img : img.resized(to: r)
            let c = im.channels
            for i in 0..<(r * r) {
                var m: Float = 0
                for k in 0..<c { m = max(m, im.pixels[i * c + k]) }
                out[b * r * r + i] = m
            }
        }
        return Tensor(out, shape: [images.count, 1, r, r])
    }

    /// Predicted class of each image (batches of `batchSize`).
    public func predict(_ images: [ImageBuffer], batchSize: Int = 256) -> [Int] {
        var out: [Int] = []
        var start = 0
        while start < images.count {
            let chunk = Array(images[start..<min(images.count, start + batchSize)])
            out += predictions(input(chunk), batchSize: batchSize)
            start += chunk.count
        }
        return out
    }

    /// Network inputs of `indices` of `dataset`, read in chunks. -> [N, 1, R, R]
    public func inputs(of dataset: any ImageDataset, indices: [Int], chunk: Int = 512) throws -> Tensor {
        let r2 = config.resolution * config.resolution
        let out = Tensor(uninitialized: [indices.count, 1, config.resolution, config.resolution])
        var start = 0
        while start < indices.count {
            let part = Array(indices[start..<min(indices.count, start + chunk)])
            let x = input(try dataset.images(at: part))
            (out.ptr + start * r2).update(from: x.ptr, count: part.count * r2)
            start += part.count
        }
        return out
    }

    /// Predicted classes of prepared inputs x [N, 1, R, R], `batchSize` rows per forward.
    public func predictions(_ x: Tensor, batchSize: Int = 256) -> [Int] {
        let n = x.shape[0]
        var out: [Int] = []
        var start = 0
        while start < n {
            let end = min(n, start + batchSize)
            out += withNoGrad { self(x.slice(axis: 0, start, end).copy()).argmax() }
            start = end
        }
        return out
    }

    /// Fraction of `indices` of `dataset` whose label is predicted.
    public func accuracy(on dataset: any ImageDataset, indices: [Int], batchSize: Int = 256) throws -> Double {
        guard !indices.isEmpty else { return .nan }
        var correct = 0, start = 0
        while start < indices.count {
            let part = Array(indices[start..<min(indices.count, start + batchSize)])
            let pred = predictions(try inputs(of: dataset, indices: part))
            correct += zip(part, pred).filter { dataset.label(at: $0.0) == $0.1 }.count
            start += part.count
        }
        return Double(correct) / Double(indices.count)
    }

    /// Writes weights, config and `metadata` as safetensors.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        var meta = metadata
        meta["config"] = config.json
        try Safetensors.save(self, to: path, metadata: meta)
    }

    /// Reads a classifier written by `save`. -> (classifier, its metadata)
    public static func load(from path: String) throws -> (GarmentClassifier, [String: String]) {
        let f = try SafetensorsFile(path: path)
        guard let cfg = f.metadata["config"].flatMap({ try? JSONDecoder().decode(Config.self, from: Data($0.utf8)) }) else {
            throw EvaluationError.invalidArgument(field: "path", message: "\(path) has no classifier config")
        }
        let c = try GarmentClassifier(config: cfg)
        try c.load(try f.all())
        return (c, f.metadata)
    }
}

extension JSONEncoder {
    /// Sorted keys: a stable encoding for cache keys.
    static var sorted: JSONEncoder { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]; return e }
}
