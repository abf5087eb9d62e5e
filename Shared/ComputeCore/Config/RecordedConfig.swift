import Foundation

/// A typed configuration recorded with runs and checkpoints as sorted-key JSON (one rule for
/// every method library's config: FlowGen's, Distill's).
public protocol RecordedConfig: Codable {}

extension RecordedConfig {
    /// Sorted-key, pretty-printed JSON of the whole configuration.
    public func json() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }
    /// Parses `json()` output.
    public static func from(json: String) throws -> Self {
        try JSONDecoder().decode(Self.self, from: Data(json.utf8))
    }
}
