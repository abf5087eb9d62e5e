import Foundation

/// Reproducible shuffling batch sampler: epoch `e` is a permutation seeded by (seed, e), cut into
/// batches of `batchSize` (the last partial batch is kept unless `dropLast`).
public struct BatchSampler: Sendable {
    public let count: Int
    public let batchSize: Int
    public let seed: UInt64
    public let shuffle: Bool
    public let dropLast: Bool

    public init(count: Int, batchSize: Int, seed: UInt64 = 0, shuffle: Bool = true, dropLast: Bool = false) throws {
        guard count > 0 else { throw DatasetError.invalidArgument(field: "count", message: "must be positive, got \(count)") }
        guard batchSize > 0 else { throw DatasetError.invalidArgument(field: "batchSize", message: "must be positive, got \(batchSize)") }
        guard !(dropLast && batchSize > count) else {
            throw DatasetError.invalidArgument(field: "batchSize", message: "\(batchSize) exceeds dataset size \(count) with dropLast")
        }
        self.count = count
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
    }

    /// Batches per epoch.
    public var batchesPerEpoch: Int { dropLast ? count / batchSize : (count + batchSize - 1) / batchSize }

    /// The index order of `epoch`.
    public func order(epoch: Int) -> [Int] {
        var idx = Array(0..<count)
        if shuffle {
            var rng = SeededRNG(seed: SeededRNG.derive(seed, UInt64(epoch)))
            idx.shuffle(using: &rng)
        }
        return idx
    }

    /// All batches of `epoch`.
    public func batches(epoch: Int) -> [[Int]] {
        let o = order(epoch: epoch)
        return (0..<batchesPerEpoch).map { b in Array(o[(b * batchSize)..<min(o.count, (b + 1) * batchSize)]) }
    }

    /// Batch number `step` of an endless stream of epochs.
    public func batch(step: Int) -> [Int] {
        let perEpoch = batchesPerEpoch
        return batches(epoch: step / perEpoch)[step % perEpoch]
    }
}
