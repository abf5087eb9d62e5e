import Foundation

/// Finds prepared model files: `$MESH_MODELS_DIR`, else the nearest `.latentmesh/models`
/// above the working directory (written by `scripts/prepare-models`).
public enum ModelLocator {
    /// The models directory, or a `notFound` error telling how to create it.
    public static func modelsDirectory(startingAt start: String? = nil) throws -> String {
        if let env = ProcessInfo.processInfo.environment["MESH_MODELS_DIR"], !env.isEmpty { return env }
        var dir = URL(fileURLWithPath: start ?? FileManager.default.currentDirectoryPath).standardizedFileURL
        while true {
            let cand = dir.appendingPathComponent(".latentmesh/models").path
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: cand, isDirectory: &isDir), isDir.boolValue { return cand }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        throw ModelError.notFound(".latentmesh/models above \(start ?? FileManager.default.currentDirectoryPath) and MESH_MODELS_DIR unset; run scripts/prepare-models")
    }

    /// Path of a file inside the models directory, checked to exist.
    public static func file(_ relative: String, startingAt start: String? = nil) throws -> String {
        let path = try modelsDirectory(startingAt: start) + "/" + relative
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelError.notFound("\(path); run scripts/prepare-models")
        }
        return path
    }
}
