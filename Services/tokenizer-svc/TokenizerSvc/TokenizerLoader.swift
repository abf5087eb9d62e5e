import Foundation
import MeshKit
import RecTok
import VTP

/// Loads named tokenizer checkpoints of any kind (VTP or RecTok, by the checkpoint's header:
/// `LatentTokenizers.load`) from the model registry, caching each by content hash.
public final class TokenizerLoader: @unchecked Sendable {
    private let cache = ModelCache<any LatentTokenizer> { try LatentTokenizers.load(checkpointPath: $0.path) }
    public init() {}

    /// The tokenizer registered under `name`; INVALID_ARGUMENT / NOT_FOUND naming `checkpoint_name`.
    public func tokenizer(_ name: String, context: RunContext) throws -> any LatentTokenizer {
        guard !name.isEmpty else { throw ServiceError.invalid("checkpoint_name", "must not be empty") }
        return try cache.model(name, field: "checkpoint_name", service: "tokenizer",
                               hint: "train one with tokenizer.train", registry: try context.models())
    }
}
