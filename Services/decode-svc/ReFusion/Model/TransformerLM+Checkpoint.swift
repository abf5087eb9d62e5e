import ComputeCore
import Foundation

extension TransformerLM {
    public struct CheckpointError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Writes weights and config (safetensors metadata) to `path`; `extra` adds metadata.
    public func save(to path: String, extra: [String: String] = [:]) throws {
        try Safetensors.write(namedParameters(), metadata: config.metadata.merging(extra) { a, _ in a }, to: path)
    }

    /// Loads a model saved by `save(to:)`.
    public static func load(from path: String) throws -> TransformerLM {
        let f = try SafetensorsFile(path: path)
        guard let c = TransformerConfig(metadata: f.metadata) else {
            throw CheckpointError(message: "\(path): safetensors metadata lacks the transformer config")
        }
        let m = TransformerLM(c, seed: 0)
        try m.load(try f.all())
        return m
    }

    /// A copy with the same weights but a different attention pattern (ReFusion starts from AR).
    public func copy(causal: Bool? = nil) -> TransformerLM {
        var c = config
        if let causal { c.causal = causal }
        let m = TransformerLM(c, seed: 0)
        m.assignWeights(from: self)
        return m
    }

    /// Overwrites every weight with `other`'s (same configuration up to the attention pattern).
    public func assignWeights(from other: TransformerLM) {
        for ((_, dst), (_, src)) in zip(namedParameters(), other.namedParameters()) { dst.assign(src) }
    }
}
