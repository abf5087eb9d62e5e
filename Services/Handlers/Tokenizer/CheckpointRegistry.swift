import Foundation
import RunStore

/// Named tokenizer checkpoints: `<artifacts root>/models/tokenizer/<name>.json` points at the
/// content-addressed checkpoint (sha256) and says which run wrote it, at which step, and
/// whether training finished. Encode/decode resolve names here; training resumes from it.
public struct CheckpointRegistry: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var sha256: String
        public var preset: String
        public var step: Int
        public var totalSteps: Int
        public var finished: Bool
        public var runID: String
        public var requestID: String
        public var updatedAt: Date
    }

    public let root: URL
    public init(artifacts: ArtifactStore) { root = artifacts.root.appendingPathComponent("models/tokenizer") }

    /// Checkpoint names: 1-64 characters from [A-Za-z0-9._-], not starting with a dot.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }
    }

    func file(_ name: String) -> URL { root.appendingPathComponent(name + ".json") }

    /// The entry for `name`, or nil.
    public func entry(_ name: String) throws -> Entry? {
        guard let data = try? Data(contentsOf: file(name)) else { return nil }
        let dec = JSONDecoder(); dec.dateDecodingStrategy = .iso8601
        return try dec.decode(Entry.self, from: data)
    }

    /// Writes (atomically replaces) the entry for `entry.name`.
    public func register(_ entry: Entry) throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let enc = JSONEncoder(); enc.dateEncodingStrategy = .iso8601; enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        try enc.encode(entry).write(to: file(entry.name), options: .atomic)
    }

    /// Every registered name.
    public func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }
}
