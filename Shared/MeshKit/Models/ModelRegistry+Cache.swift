import Foundation
import RunStore

/// Computed-once files (latent and text caches, evaluation reference statistics, judges) kept
/// content-addressed in the artifact store and found by a registry entry whose name is derived
/// from everything that determines the content (`cache.<area>.<key>`).
extension ModelRegistry {
    /// The file registered as cache entry `name`, if the entry and its artifact exist.
    public func cachedFile(_ name: String) throws -> URL? {
        guard let rec = try store.model(name: name) else { return nil }
        let url = try artifacts.url(sha256: rec.sha256)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// Stores the file at `file` as an artifact and registers it as cache entry `name`.
    @discardableResult
    public func storeCachedFile(_ name: String, file: URL, kind: String, service: String, mediaType: String = "application/x-safetensors",
                                parents: [String] = [], runID: String? = nil) throws -> ModelRecord {
        let art = try artifacts.put(fileAt: file, mediaType: mediaType, runID: runID)
        return try register(name: name, artifact: art, kind: kind, service: service, configJSON: "{}", parents: parents, runID: runID)
    }
}
