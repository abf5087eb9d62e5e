import Foundation

/// Which part of a dataset to read.
public enum SplitPart: String, Sendable, CaseIterable { case train, validation }

/// Deterministic train/validation split: a seeded permutation, stratified by label when the
/// dataset has labels, so each class keeps the same validation fraction.
public enum DatasetSplit {
    /// Indices of `part`; the same (dataset, fraction, seed) always gives the same indices.
    public static func indices(of dataset: any ImageDataset, part: SplitPart,
                               validationFraction: Double = 0.1, seed: UInt64 = 0) throws -> [Int] {
        guard validationFraction > 0 && validationFraction < 1 else {
            throw DatasetError.invalidArgument(field: "validationFraction", message: "must be in (0, 1), got \(validationFraction)")
        }
        var groups: [Int: [Int]] = [:]
        for i in 0..<dataset.count { groups[max(-1, dataset.label(at: i)), default: []].append(i) }
        var train: [Int] = []
        var val: [Int] = []
        for key in groups.keys.sorted() {
            var members = groups[key]!
            var rng = SeededRNG(seed: SeededRNG.derive(seed, UInt64(bitPattern: Int64(key + 1))))
            members.shuffle(using: &rng)
            let nVal = Int((Double(members.count) * validationFraction).rounded())
            val.append(contentsOf: members[0..<nVal])
            train.append(contentsOf: members[nVal...])
        }
        return (part == .train ? train : val).sorted()
    }

    /// A view of `part` of `dataset`.
    public static func split(_ dataset: any ImageDataset, part: SplitPart,
                             validationFraction: Double = 0.1, seed: UInt64 = 0) throws -> SubsetDataset {
        SubsetDataset(base: dataset, indices: try indices(of: dataset, part: part, validationFraction: validationFraction, seed: seed),
                      suffix: part.rawValue)
    }
}

/// A dataset restricted to some indices of another.
public struct SubsetDataset: ImageDataset {
    public let base: any ImageDataset
    public let indices: [Int]
    public let name: String

    public init(base: any ImageDataset, indices: [Int], suffix: String = "subset") {
        self.base = base
        self.indices = indices
        self.name = "\(base.name)/\(suffix)"
    }

    public var count: Int { indices.count }
    public var classNames: [String] { base.classNames }
    public var resolution: Int { base.resolution }
    public var channels: Int { base.channels }
    public var templates: CaptionTemplates { base.templates }
    public func label(at index: Int) -> Int { base.label(at: indices[index]) }
    public func captions(at index: Int) -> [String] { base.captions(at: indices[index]) }
    public func image(at index: Int) throws -> ImageBuffer { try base.image(at: indices[index]) }

    /// The first `n` items of a seeded shuffle (a reproducible random subset).
    public static func random(_ base: any ImageDataset, count n: Int, seed: UInt64) -> SubsetDataset {
        var idx = Array(0..<base.count)
        var rng = SeededRNG(seed: seed)
        idx.shuffle(using: &rng)
        return SubsetDataset(base: base, indices: Array(idx.prefix(n)).sorted(), suffix: "random\(n)")
    }
}
