import ComputeCore
import Foundation
import RunStore

/// A learned concept token (personalize-svc, METHODS.md §4) as prompts use it.
public struct ConceptEmbedding: Sendable {
    /// The token as written in prompts, e.g. `<my-bag>`.
    public let token: String
    /// The input embedding MiniLM reads for the token. [384]
    public let vector: [Float]
    public let record: ModelRecord
}

/// Concepts in the one model registry: kind `concept`, registered as `concept.<inner>` (`<my-bag>`
/// -> `concept.my-bag`), the artifact a safetensors file whose `embedding` tensor [1, D] is the token.
extension ModelRegistry {
    public static let conceptKind = "concept"

    /// Registry name of a prompt token: `<my-bag>` -> `concept.my-bag`.
    public static func conceptModelName(_ token: String) -> String {
        "concept." + token.dropFirst().dropLast()
    }

    /// The concept `token` (e.g. `<my-bag>`); NOT_FOUND naming `field` and the concept when it was
    /// never learned.
    public func concept(_ token: String, field: String) throws -> ConceptEmbedding {
        let name = Self.conceptModelName(token)
        guard token.hasPrefix("<"), token.hasSuffix(">"), ModelRecord.nameProblem(name) == nil,
              let rec = try store.model(name: name), rec.kind == Self.conceptKind else {
            throw ServiceError.notFound(field, "unknown concept \(token): learn it first (meshctl personalize learn --name \"\(token)\" ...)")
        }
        let url = try file(rec, field: field)
        guard let e = try? SafetensorsFile(path: url.path).tensor("embedding") else {
            throw ServiceError(.internalError, field: field, "concept \(token) artifact \(rec.sha256) has no embedding")
        }
        return ConceptEmbedding(token: token, vector: e.array, record: rec)
    }

    /// The concepts `tokens` in order (duplicates kept once); NOT_FOUND names the first unknown one.
    public func concepts(_ tokens: [String], field: String) throws -> [ConceptEmbedding] {
        var seen = Set<String>()
        return try tokens.filter { seen.insert($0).inserted }.map { try concept($0, field: field) }
    }
}
