import Distill
import GeneratorSvc
import MeshKit

/// distill-svc: few-step sCM and MeanFlow students of the generator (`distill.train`, `distill.evaluate`).
public struct DistillModule: ServiceModule {
    public init() {}
    public var name: String { "distill" }
    public var method: String { "Distill" }
    public var summary: String { "few-step sCM and MeanFlow students of the generator" }
    public var presets: [String] { DistillPresets.names }
    public func methods(config: ServiceConfig) -> [ServiceMethod] { DistillService.methods(models: GeneratorModels()) }
}
