import MeshKit

/// personalize-svc: directional textual inversion: learn a new word on the sphere.
public struct PersonalizeModule: ServiceModule {
    public init() {}
    public var name: String { "personalize" }
    public var method: String { "DTI" }
    public var summary: String { "directional textual inversion: learn a new word on the sphere, slerp concepts" }
    public func methods(config: ServiceConfig) -> [ServiceMethod] { PersonalizeService.methods(loader: PersonalizeLoader()) }
}
