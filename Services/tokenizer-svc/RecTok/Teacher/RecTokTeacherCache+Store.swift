import ComputeCore
import Datasets
import Evaluation
import Foundation
import VTP

extension RecTokTeacherCache {
    /// The store key of the features of `indices` of a dataset: everything that determines them
    /// (teacher, dataset and resolution, grid, the exact images).
    public func storeKey(dataset: String, imageSize: Int, indices: [Int]) -> String {
        EvaluationCache.key("rectok-teacher", [teacher.name, dataset, String(imageSize), String(grid),
                                               indices.map(String.init).joined(separator: ",")])
    }

    /// Fills the cache with the features of `indices` (typically the whole training split): loaded
    /// from `store` when a run already computed them (the content-addressed cache services keep in
    /// the artifact store), else computed in batches and saved there. Returns how many were loaded.
    @discardableResult
    public func precompute(_ data: VTPData, indices: [Int], dataset: String, imageSize: Int,
                           store: EvaluationCache, batchSize: Int = 64) throws -> Int {
        let key = storeKey(dataset: dataset, imageSize: imageSize, indices: indices)
        let per = grid * grid * teacher.channels
        if let url = try store.lookup(key) {
            let f = try SafetensorsFile(path: url.path)
            if let t = try f.all()["features"], t.count == indices.count * per {
                let a = t.array
                insert(Dictionary(uniqueKeysWithValues: indices.enumerated().map { k, i in (i, Array(a[(k * per)..<((k + 1) * per)])) }))
                return indices.count
            }
        }
        var all: [Float] = []
        all.reserveCapacity(indices.count * per)
        for start in stride(from: 0, to: indices.count, by: batchSize) {
            let part = Array(indices[start..<min(indices.count, start + batchSize)])
            all += try tensor(indices: part, images: try data.images(part, size: imageSize)).array
        }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("\(key)-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try Safetensors.write([("features", Tensor(all, shape: [indices.count, grid * grid, teacher.channels]))],
                              metadata: ["teacher": teacher.name, "dataset": dataset], to: tmp.path)
        try store.save(key, tmp, "rectok-teacher-features")
        return 0
    }
}
