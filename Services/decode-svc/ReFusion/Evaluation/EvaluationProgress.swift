import Foundation

/// The finished passes of one seed's measurement set while it is being measured, kept in a file
/// beside the set (`measurements/<name>.parts.json` in the experiment's disk cache), so a stopped
/// run resumes the set at the next unfinished pass instead of measuring it again from the start.
/// (A seed's set on the `long` plan is about a hundred passes over 200 test examples; it takes
/// long enough that a session may end inside it.)
///
/// Each pass is stored under a key naming what it measured (decoder and task, threshold or slot
/// size); the file is rewritten atomically after every pass and removed once the whole set is
/// stored (`finish(file:)`). The set's name covers every model and the evaluation recipe, so parts of
/// another recipe are never reused. Without a file (no cache directory) passes are only run.
public final class EvaluationProgress {
    /// One finished pass: its result and, for text, its (prompt, generation) samples.
    public struct Part: Codable, Equatable, Sendable {
        public var result: EvaluationResult
        public var samples: [[String]]?
    }

    public let file: URL?
    public private(set) var parts: [String: Part]
    /// Passes taken from the file / run now.
    public private(set) var resumed = 0, measured = 0

    /// Loads the parts already in `file`, if any. Throws when the file exists but cannot be read.
    public init(file: URL?) throws {
        self.file = file
        parts = [:]
        if let file, FileManager.default.fileExists(atPath: file.path) {
            do {
                parts = try JSONDecoder().decode([String: Part].self, from: Data(contentsOf: file))
            } catch {
                throw DecodeModelCache.CacheError(description: "unfinished decode measurements \(file.path) are unreadable (\(error)); delete the file to measure its passes again")
            }
        }
    }

    /// The stored pass `key`, or `body()`'s, which is stored before it is returned.
    public func pass(_ key: String, _ body: () throws -> Part) throws -> Part {
        if let p = parts[key] {
            resumed += 1
            return p
        }
        let p = try body()
        parts[key] = p
        measured += 1
        if let file {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try JSONEncoder().encode(parts).write(to: file, options: .atomic)
        }
        return p
    }

    /// `pass` for a result without samples.
    public func result(_ key: String, _ body: () throws -> EvaluationResult) throws -> EvaluationResult {
        try pass(key) { Part(result: try body(), samples: nil) }.result
    }

    /// Removes the parts `file` once the whole set is stored.
    public static func finish(file: URL?) {
        if let file { try? FileManager.default.removeItem(at: file) }
    }
}
