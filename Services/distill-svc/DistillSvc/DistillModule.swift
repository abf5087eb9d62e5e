import MeshKit

/// distill-svc: few-step sCM and MeanFlow students of the generator.
/// The Distill handlers plug in here (`methods(config:)`); until then the service answers the
/// backbone's methods only (describe, health, ping).
public struct DistillModule: ServiceModule {
    public init() {}
    public var name: String { "distill" }
    public var method: String { "Distill" }
    public var summary: String { "few-step sCM and MeanFlow students of the generator" }
}
