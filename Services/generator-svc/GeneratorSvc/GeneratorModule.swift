import MeshKit

/// generator-svc: text-conditioned latent flow matching with a small DiT and CFG.
/// The FlowGen handlers plug in here (`methods(config:)`); until then the service answers the
/// backbone's methods only (describe, health, ping).
public struct GeneratorModule: ServiceModule {
    public init() {}
    public var name: String { "generator" }
    public var method: String { "FlowGen" }
    public var summary: String { "text-conditioned latent flow matching with a small DiT and CFG" }
}
