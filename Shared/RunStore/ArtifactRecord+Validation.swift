import Foundation

extension ArtifactRecord {
    /// A digest must be 64 lowercase hex characters.
    static func validateDigest(_ sha256: String) throws {
        guard sha256.utf8.count == 64,
              sha256.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw RunStoreError.invalidArgument(
                field: "sha256", message: "'\(sha256.prefix(80))' must be 64 lowercase hex characters")
        }
    }

    static func validate(_ artifact: ArtifactRecord) throws {
        try validateDigest(artifact.sha256)
        if artifact.size < 0 {
            throw RunStoreError.invalidArgument(field: "size", message: "is \(artifact.size), must be >= 0")
        }
        try RunStoreValidation.id(artifact.path, field: "path")
        try RunStoreValidation.text(artifact.mediaType, field: "media_type", limit: RunStoreValidation.maxIDLength)
        if let runID = artifact.runID { try RunStoreValidation.id(runID, field: "run_id") }
    }
}
