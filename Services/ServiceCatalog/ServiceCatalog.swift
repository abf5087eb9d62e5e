import DecodeSvc
import DistillSvc
import Foundation
import GeneratorSvc
import MeshKit
import PersonalizeSvc
import TokenizerSvc

/// The LatentMesh services, one module each. Used by meshctl's embedded host, mesh-bench
/// and the tests; a service executable links only its own module. Adding a service adds
/// one line here.
public enum ServiceCatalog {
    public static let modules: [any ServiceModule] = [
        TokenizerModule(),
        GeneratorModule(),
        PersonalizeModule(),
        DecodeModule(),
        DistillModule(),
    ]

    public static var names: [String] { modules.map(\.name) }

    public struct UnknownService: Error, CustomStringConvertible {
        public let name: String
        public var description: String {
            "unknown service '\(name)': expected one of \(ServiceCatalog.names.joined(separator: ", "))"
        }
    }

    /// The module called `name`.
    public static func module(_ name: String) throws -> any ServiceModule {
        guard let m = modules.first(where: { $0.name == name }) else { throw UnknownService(name: name) }
        return m
    }

    /// The definition of service `name` under `config`.
    public static func definition(_ name: String, config: ServiceConfig) throws -> ServiceDefinition {
        try module(name).definition(config: config)
    }

    /// All definitions.
    public static func all(config: (String) -> ServiceConfig) throws -> [ServiceDefinition] {
        try modules.map { try $0.definition(config: config($0.name)) }
    }
}
