import Foundation
import MeshKit

/// The five LatentMesh services and how to build each one's definition. Each service's
/// method handlers (VTP, FlowGen, DTI, ReFusion, Distill) plug in here as their issues land;
/// until then a service answers the backbone's own methods (describe, health, ping).
public enum ServiceCatalog {
    public struct Entry: Sendable {
        public let name: String
        public let method: String
        public let summary: String
    }

    public static let entries: [Entry] = [
        Entry(name: "tokenizer", method: "VTP", summary: "ViT semantic tokenizer: train, encode images to latents, decode latents"),
        Entry(name: "generator", method: "FlowGen", summary: "text-conditioned latent flow matching with a small DiT and CFG"),
        Entry(name: "personalize", method: "DTI", summary: "directional textual inversion: learn a new word on the sphere, slerp concepts"),
        Entry(name: "decode", method: "ReFusion", summary: "slot-level plan-and-infill decoding vs AR and masked diffusion"),
        Entry(name: "distill", method: "Distill", summary: "few-step sCM and MeanFlow students of the generator"),
    ]

    public static var names: [String] { entries.map(\.name) }

    public struct UnknownService: Error, CustomStringConvertible {
        public let name: String
        public var description: String {
            "unknown service '\(name)': expected one of \(ServiceCatalog.names.joined(separator: ", "))"
        }
    }

    /// The definition of service `name` under `config`.
    public static func definition(_ name: String, config: ServiceConfig) throws -> ServiceDefinition {
        guard let entry = entries.first(where: { $0.name == name }) else { throw UnknownService(name: name) }
        var def = ServiceDefinition(name: entry.name, config: ["method": entry.method, "summary": entry.summary])
        if entry.name == "tokenizer" { return TokenizerService.definition(def, config: config) }
        if entry.name == "decode" { for m in DecodeService.methods(config: config) { def.add(m) } }
        return def
    }

    /// All five definitions.
    public static func all(config: (String) -> ServiceConfig) throws -> [ServiceDefinition] {
        try names.map { try definition($0, config: config($0)) }
    }
}
