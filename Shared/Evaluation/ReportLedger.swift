import Foundation

/// Finished measurements that a long report keeps beside its markdown and that are committed with
/// it (`docs/results/AREA/ledger/<key>.json`), so a report that needs more machine time than one
/// session resumes on a fresh machine, where the report cache (models, store) is gone.
///
/// A key names the whole recipe of what it holds (the model's recipe name plus every evaluation
/// setting), so a changed recipe never reuses an entry. Each entry records the provenance of the run
/// that measured it, which the report prints: a report assembled from several runs says so.
public struct ReportLedger: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    public struct LedgerError: Error, CustomStringConvertible {
        public let description: String
    }

    /// One stored measurement and where it was measured.
    public struct Entry<Value: Codable>: Codable {
        public init(value: Value, measuredBy: [String: String]) { self.value = value; self.measuredBy = measuredBy }
        public var value: Value
        /// `ReportProvenance.dictionary` of the run that measured it.
        public var measuredBy: [String: String]
    }

    /// The file of `key` (`key` is a file name: letters, digits, `-`, `_`, `.`).
    public func file(_ key: String) throws -> URL {
        guard !key.isEmpty, key.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }),
              !key.hasPrefix(".") else {
            throw LedgerError(description: "ledger key '\(key)': expected letters, digits, '-', '_' or '.', not starting with '.'")
        }
        return directory.appendingPathComponent(key + ".json")
    }

    /// Whether an entry is stored under `key` (without reading it).
    public func contains(_ key: String) throws -> Bool {
        FileManager.default.fileExists(atPath: try file(key).path)
    }

    /// The entry stored under `key`, or nil. An unreadable entry is an error naming the file (never
    /// silently measured again: it may be what another session committed).
    public func entry<Value: Codable>(_ key: String, as: Value.Type) throws -> Entry<Value>? {
        guard try contains(key) else { return nil }
        let url = try file(key)
        do {
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = Self.nonFinite
            return try decoder.decode(Entry<Value>.self, from: Data(contentsOf: url))
        } catch {
            throw LedgerError(description: "ledger entry \(url.path) is unreadable (\(error)); delete it to measure it again")
        }
    }

    /// Stores `value` under `key`, measured by `provenance` (written atomically, keys sorted, so a
    /// rerun that measures the same numbers leaves the file unchanged).
    public func store<Value: Codable>(_ value: Value, key: String, provenance: [String: String]) throws {
        let url = try file(key)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(Entry(value: value, measuredBy: provenance)).write(to: url, options: .atomic)
    }

    /// NaN and infinities as strings (an unmeasured field is NaN; JSON has no number for it).
    static let nonFinite = JSONDecoder.NonConformingFloatDecodingStrategy.convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

    /// The distinct commits (`+dirty` when the tree had changes) of `provenances`, sorted.
    public static func commits(_ provenances: [[String: String]]) -> [String] {
        Set(provenances.map { ($0["commit"] ?? "?") + ($0["dirty"] == "yes" ? "+dirty" : "") }).sorted()
    }

    /// The ledger of a report's figure folder: `<outputDir>/<figureFolder>/ledger`.
    public static func of(outputDir: URL, figureFolder: String) -> ReportLedger {
        ReportLedger(directory: outputDir.appendingPathComponent(figureFolder).appendingPathComponent("ledger"))
    }
}
