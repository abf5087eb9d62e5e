import ComputeCore
import Datasets
import Foundation
import Models

/// Frozen sentence embeddings for captions (MiniLM in LatentMesh), cached per string.
public final class TextEmbeddingCache: @unchecked Sendable {
    public let dimension: Int
    private let embedBatch: ([String]) -> [[Float]]
    private var cache: [String: [Float]] = [:]
    private let lock = NSLock()

    public init(dimension: Int, embed: @escaping ([String]) -> [[Float]]) {
        self.dimension = dimension; self.embedBatch = embed
    }

    /// The shared frozen MiniLM encoder (all-MiniLM-L6-v2, 384-d, mean-pooled, unit norm).
    public static func miniLM() throws -> TextEmbeddingCache {
        let enc = try MiniLMEncoder(maxLength: 32)
        return TextEmbeddingCache(dimension: MiniLMEncoder.width) { enc.embed($0) }
    }

    /// Embeddings of `texts` [N, dimension].
    public func embed(_ texts: [String]) -> [[Float]] {
        lock.lock(); defer { lock.unlock() }
        let missing = Array(Set(texts.filter { cache[$0] == nil })).sorted()
        if !missing.isEmpty { for (t, e) in zip(missing, embedBatch(missing)) { cache[t] = e } }
        return texts.map { cache[$0]! }
    }

    /// As a tensor [N, dimension].
    public func tensor(_ texts: [String]) -> Tensor {
        Tensor(embed(texts).flatMap { $0 }, shape: [texts.count, dimension])
    }
}

/// The image-caption data a tokenizer trains and evaluates on: train/validation split of the
/// configured dataset at the configured resolution, read as RGB.
public struct VTPData: @unchecked Sendable {
    public let dataset: any ImageDataset
    public let train: [Int]
    public let validation: [Int]

    public init(config: VTPConfig) throws {
        let t = config.train
        try self.init(dataset: t.dataset, imageSize: config.model.imageSize, validationFraction: t.validationFraction,
                      trainLimit: t.trainLimit)
    }

    /// The data a trained tokenizer was trained on (its dataset, image size and validation split),
    /// with every training image (`trainLimit` 0: evaluation probes read the whole train split).
    public init(tokenizer: any LatentTokenizer, trainLimit: Int = 0) throws {
        try self.init(dataset: tokenizer.datasetName, imageSize: tokenizer.imageSize,
                      validationFraction: tokenizer.validationFraction, trainLimit: trainLimit)
    }

    /// Any tokenizer's data (VTP, RecTok): `dataset` by catalog name at `imageSize`, a fixed
    /// validation split of `validationFraction`, at most `trainLimit` training images (0 = all).
    public init(dataset name: String, imageSize: Int, validationFraction: Double, trainLimit: Int) throws {
        dataset = try DatasetCatalog.open(name, resolution: imageSize, rgb: true)
        var tr = try DatasetSplit.indices(of: dataset, part: .train, validationFraction: validationFraction, seed: 1234)
        if trainLimit > 0 && tr.count > trainLimit { tr = Array(tr.prefix(trainLimit)) }
        train = tr
        validation = try DatasetSplit.indices(of: dataset, part: .validation, validationFraction: validationFraction, seed: 1234)
    }

    /// Images at dataset indices, resized to `size` if the reader returns another size.
    public func images(_ indices: [Int], size: Int) throws -> [ImageBuffer] {
        try indices.map { i in
            let img = try dataset.image(at: i)
            return img.width == size && img.height == size ? img : img.resized(to: size)
        }
    }

    /// One caption per item, chosen by `rng` among the dataset's captions.
    public func captions(_ indices: [Int], rng: inout SeededRNG) -> [String] {
        indices.map { i in
            let all = dataset.captions(at: i)
            return all.isEmpty ? "" : all[Int(rng.next() % UInt64(all.count))]
        }
    }
}
