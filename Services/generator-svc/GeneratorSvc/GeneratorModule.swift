import FlowGen
import MeshKit

/// generator-svc: text-conditioned latent flow matching with a small DiT and classifier-free
/// guidance (FlowGen, METHODS.md §3): `generator.train`, `generator.generate`.
public struct GeneratorModule: ServiceModule {
    public init() {}
    public var name: String { "generator" }
    public var method: String { "FlowGen" }
    public var summary: String { "text-conditioned latent flow matching with a small DiT and CFG" }
    public var presets: [String] { FlowGenPresets.names }
    public var settings: [String: String] {
        ["max_prompts": String(GeneratorService.maxPrompts), "max_n": String(GeneratorService.maxImagesPerPrompt),
         "steps": "1...1000 (distilled students: 1...4)", "guidance": "0...20", "samplers": SamplerKind.allCases.map(\.rawValue).joined(separator: ","),
         "default_model": GeneratorService.defaultModel]
    }
    /// Concurrent generate requests are batched (`ServiceConfig.maxBatch`, `maxBatchWaitMs`).
    public var batchesRequests: Bool { true }
    public func methods(config: ServiceConfig) -> [ServiceMethod] {
        GeneratorService.methods(models: GeneratorModels(maxBatch: config.maxBatch, maxBatchWait: Double(config.maxBatchWaitMs) / 1000))
    }
}
