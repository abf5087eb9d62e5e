import ComputeCore
import Datasets
import Foundation

/// Teacher features computed once per training image and kept in memory, keyed by dataset
/// index (the teacher is frozen and sees the un-augmented image, so a feature never changes);
/// `precompute` also keeps them across runs in a content-addressed store. Memory: T·C·4 bytes
/// per image (28 KB for 64 tokens of EfficientNet-Lite0's 112 stage-5 channels; 230 MB for the
/// `s` presets' 8,192 training images). Thread-safe.
public final class RecTokTeacherCache: @unchecked Sendable {
    public let teacher: any RecTokTeacher
    public let grid: Int
    private var features: [Int: [Float]] = [:]
    private let lock = NSLock()
    /// How many images the teacher has run on (a cache hit does not count).
    public private(set) var computed = 0

    public init(teacher: any RecTokTeacher, grid: Int) { self.teacher = teacher; self.grid = grid }

    /// Features of the images at dataset `indices` (`images` are those images, in order), computing
    /// only the missing ones: -> [N, grid², C].
    public func tensor(indices: [Int], images: [ImageBuffer]) throws -> Tensor {
        precondition(indices.count == images.count, "RecTokTeacherCache: \(indices.count) indices for \(images.count) images")
        lock.lock(); defer { lock.unlock() }
        var missing: [Int] = []
        for (k, i) in indices.enumerated() where features[i] == nil && !missing.contains(where: { indices[$0] == i }) {
            missing.append(k)
        }
        if !missing.isEmpty {
            let f = try teacher.features(missing.map { images[$0] }, grid: grid)
            for (k, v) in zip(missing, f) { features[indices[k]] = v }
            computed += missing.count
        }
        return Tensor(indices.flatMap { features[$0]! }, shape: [indices.count, grid * grid, teacher.channels])
    }

    /// Adds features computed elsewhere (a stored precomputation), keyed by dataset index.
    func insert(_ more: [Int: [Float]]) {
        lock.lock(); defer { lock.unlock() }
        features.merge(more) { a, _ in a }
    }

    /// Number of cached images.
    public var count: Int { lock.lock(); defer { lock.unlock() }; return features.count }
}
