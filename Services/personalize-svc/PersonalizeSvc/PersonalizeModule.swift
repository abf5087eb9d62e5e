import MeshKit

/// personalize-svc: directional textual inversion: learn a new word on the sphere, slerp concepts.
/// The DTI handlers plug in here (`methods(config:)`); until then the service answers the
/// backbone's methods only (describe, health, ping).
public struct PersonalizeModule: ServiceModule {
    public init() {}
    public var name: String { "personalize" }
    public var method: String { "DTI" }
    public var summary: String { "directional textual inversion: learn a new word on the sphere, slerp concepts" }
}
