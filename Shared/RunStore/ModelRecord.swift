import Foundation

/// One named model in the registry (`models` table): a name pointing at a content-addressed
/// checkpoint in the artifact store, with what produced it. A generator names its tokenizer
/// in `parents`; a distilled student its teacher.
public struct ModelRecord: Sendable, Equatable {
    /// Unique name (see `ModelRecord.validateName`).
    public var name: String
    /// SHA-256 (64 lowercase hex) of the checkpoint artifact.
    public var sha256: String
    /// Checkpoint size in bytes.
    public var size: Int64
    /// What the model is, e.g. "vtp-tokenizer", "decode-ar".
    public var kind: String
    /// The service that trained it, e.g. "tokenizer".
    public var service: String
    /// Resolved training configuration (a JSON object).
    public var configJSON: String
    /// Names of the models this one was built from.
    public var parents: [String]
    /// The run that produced it, if known.
    public var runID: String?
    public var createdAt: Date

    public init(name: String, sha256: String, size: Int64, kind: String, service: String,
                configJSON: String = "{}", parents: [String] = [], runID: String? = nil, createdAt: Date = Date()) {
        self.name = name; self.sha256 = sha256; self.size = size; self.kind = kind; self.service = service
        self.configJSON = configJSON; self.parents = parents; self.runID = runID; self.createdAt = createdAt
    }

    /// Longest model name.
    public static let maxNameLength = 64

    /// The one model-name rule: 1-64 characters of A-Z a-z 0-9 . _ -, not starting with '.'.
    /// Returns nil if `name` is valid, else what is wrong with it.
    public static func nameProblem(_ name: String) -> String? {
        let allowed = name.unicodeScalars.allSatisfy {
            ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || "._-".unicodeScalars.contains($0)
        }
        guard !name.isEmpty, name.count <= maxNameLength, !name.hasPrefix("."), allowed else {
            return "'\(name)' must be 1-\(maxNameLength) characters of A-Z a-z 0-9 . _ - and not start with '.'"
        }
        return nil
    }

    /// Throws `invalidArgument(field:)` when `name` breaks the model-name rule.
    public static func validateName(_ name: String, field: String = "name") throws {
        if let problem = nameProblem(name) { throw RunStoreError.invalidArgument(field: field, message: problem) }
    }

    /// Checks every field before it is stored.
    static func validate(_ m: ModelRecord) throws {
        try validateName(m.name)
        try ArtifactRecord.validateDigest(m.sha256)
        guard m.size >= 0 else { throw RunStoreError.invalidArgument(field: "size", message: "is \(m.size), must be >= 0") }
        try RunStoreValidation.id(m.kind, field: "kind")
        try RunStoreValidation.id(m.service, field: "service")
        try RunStoreValidation.text(m.configJSON, field: "config", limit: 1 << 20)
        try RunStoreValidation.json(m.configJSON, field: "config")
        for (i, p) in m.parents.enumerated() { try validateName(p, field: "parents[\(i)]") }
    }

    /// Parents as stored: a JSON array of names.
    var parentsJSON: String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: parents)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func parents(fromJSON json: String?) -> [String] {
        guard let json, let arr = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String] else { return [] }
        return arr
    }
}

/// Which models `listModels` returns (newest first).
public struct ModelQuery: Sendable, Equatable {
    public var service: String?
    public var kind: String?
    public var limit: Int
    public init(service: String? = nil, kind: String? = nil, limit: Int = 100) {
        self.service = service; self.kind = kind; self.limit = limit
    }
}
