import ComputeCore
import Foundation
import VTP

/// The one place that turns a tokenizer checkpoint of any kind into a `LatentTokenizer`. It lives
/// in the RecTok library because RecTok is the library that sees both kinds (RecTok depends on
/// VTP, never the reverse); services, meshctl and benchmarks load tokenizers only through it.
public enum LatentTokenizers {
    /// The kinds of tokenizer checkpoint, by the `format` in their safetensors metadata.
    public enum Kind: String, Sendable, CaseIterable {
        /// `VTPCheckpoint.format` (METHODS.md §1).
        case vtp
        /// `RecTokCheckpoint.format` (METHODS.md §2).
        case rectok

        /// The checkpoint format string this kind writes.
        public var format: String {
            switch self {
            case .vtp: return VTPCheckpoint.format
            case .rectok: return RecTokCheckpoint.format
            }
        }
    }

    /// The kind of the checkpoint at `path`, read from its header (no tensors are loaded).
    /// Throws `MethodError.checkpoint` for a file that is neither.
    public static func kind(checkpointPath path: String) throws -> Kind {
        let format = try SafetensorsFile(path: path).metadata["format"] ?? ""
        guard let k = Kind.allCases.first(where: { $0.format == format }) else {
            throw MethodError.checkpoint("\(path) is not a tokenizer checkpoint (format '\(format)'; expected one of "
                                         + Kind.allCases.map(\.format).joined(separator: ", ") + ")")
        }
        return k
    }

    /// Loads the tokenizer at `path` for inference, VTP or RecTok by its header.
    public static func load(checkpointPath path: String) throws -> any LatentTokenizer {
        switch try kind(checkpointPath: path) {
        case .vtp: return try VTPTokenizer(checkpointPath: path)
        case .rectok: return try RecTokTokenizer(checkpointPath: path)
        }
    }
}
