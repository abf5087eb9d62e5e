import Foundation
import MeshKit
import ReFusion

/// Trained decode models by name: `<artifactsDir>/models/decode/<name>/model.safetensors`.
/// Loaded models are cached per process (reloaded when the file changes).
public final class DecodeModelRegistry: @unchecked Sendable {
    public let root: URL
    private let lock = NSLock()
    private var cache: [String: (modified: Date, model: TransformerLM)] = [:]

    public init(artifactsDir: String) {
        root = URL(fileURLWithPath: artifactsDir).appendingPathComponent("models/decode")
    }

    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var registries: [String: DecodeModelRegistry] = [:]

    /// The process-wide registry of an artifact root (one model cache per root).
    public static func shared(artifactsDir: String) -> DecodeModelRegistry {
        sharedLock.lock(); defer { sharedLock.unlock() }
        if let r = registries[artifactsDir] { return r }
        let r = DecodeModelRegistry(artifactsDir: artifactsDir)
        registries[artifactsDir] = r
        return r
    }

    /// Allowed model names: 1-64 of A-Z a-z 0-9 . _ - (no leading dot).
    public static func validate(name: String, field: String = "model_name") throws {
        let ok = !name.isEmpty && name.count <= 64 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }
        guard ok else {
            throw ServiceError.invalid(field, "'\(name)' must be 1-64 characters of A-Z a-z 0-9 . _ - and not start with '.'")
        }
    }

    public func directory(_ name: String) -> URL { root.appendingPathComponent(name) }
    public func modelFile(_ name: String) -> URL { directory(name).appendingPathComponent("model.safetensors") }

    public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: modelFile(name).path) }

    /// The model called `name`, or NOT_FOUND naming `model_name`.
    public func load(_ name: String) throws -> TransformerLM {
        try Self.validate(name: name)
        let file = modelFile(name)
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: file.path),
              let modified = attrs[.modificationDate] as? Date else {
            throw ServiceError.notFound("model_name", "no decode model named '\(name)' (looked for \(file.path)); train one with decode.train")
        }
        lock.lock()
        if let c = cache[name], c.modified == modified { lock.unlock(); return c.model }
        lock.unlock()
        let model: TransformerLM
        do { model = try TransformerLM.load(from: file.path) } catch {
            throw ServiceError(.internalError, field: "model_name", "model '\(name)' cannot be loaded: \(error)")
        }
        lock.lock(); cache[name] = (modified, model); lock.unlock()
        return model
    }

    /// Installs a trained model under `name` atomically (write to a temp file, then rename).
    public func install(_ model: TransformerLM, name: String, metadata: [String: String]) throws {
        try Self.validate(name: name)
        let dir = directory(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmp = dir.appendingPathComponent(".model-\(UUID().uuidString).safetensors")
        try model.save(to: tmp.path, extra: metadata)
        // rename(2) replaces an existing file atomically
        guard rename(tmp.path, modelFile(name).path) == 0 else {
            throw ServiceError(.internalError, "cannot install model '\(name)': rename failed (errno \(errno))")
        }
    }
}
