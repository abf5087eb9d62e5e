import Foundation

/// Where an evaluator keeps what it computes once and reuses (reference feature statistics, the
/// attribute classifier): files under keys derived from everything that determines them, so a
/// key always names the same content. Services back it with the model registry over the
/// content-addressed artifact store (`cache.eval.<key>` entries); reports and tests use a
/// directory.
public struct EvaluationCache: Sendable {
    /// The file stored under `key`, if any.
    public let lookup: @Sendable (_ key: String) throws -> URL?
    /// Stores the file at `file` under `key` (`kind` describes it, e.g. "fd-reference").
    public let save: @Sendable (_ key: String, _ file: URL, _ kind: String) throws -> Void

    public init(lookup: @escaping @Sendable (String) throws -> URL?,
                save: @escaping @Sendable (String, URL, String) throws -> Void) {
        self.lookup = lookup; self.save = save
    }

    /// Keeps nothing: every evaluation recomputes (tests of the computation itself).
    public static let none = EvaluationCache(lookup: { _ in nil }, save: { _, _, _ in })

    /// Files `<directory>/<key>.safetensors`.
    public static func directory(_ directory: URL) -> EvaluationCache {
        EvaluationCache(lookup: { key in
            let url = directory.appendingPathComponent(key + ".safetensors")
            return FileManager.default.fileExists(atPath: url.path) ? url : nil
        }, save: { key, file, _ in
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let url = directory.appendingPathComponent(key + ".safetensors")
            let tmp = directory.appendingPathComponent(key + ".\(UUID().uuidString).tmp")
            try FileManager.default.copyItem(at: file, to: tmp)
            _ = try? FileManager.default.removeItem(at: url)
            try FileManager.default.moveItem(at: tmp, to: url)
        })
    }

    /// A key from its inputs: a 64-bit FNV-1a hash (hex) of the parts, prefixed by `kind`.
    public static func key(_ kind: String, _ parts: [String]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in parts.joined(separator: "\u{1}").utf8 { h = (h ^ UInt64(b)) &* 0x0100_0000_01b3 }
        return kind + "-" + String(h, radix: 16)
    }
}
