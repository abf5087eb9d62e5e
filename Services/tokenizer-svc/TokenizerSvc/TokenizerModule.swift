import MeshKit
import VTP

/// tokenizer-svc: the VTP semantic tokenizer (train, encode images to latents, decode latents).
public struct TokenizerModule: ServiceModule {
    public init() {}
    public var name: String { "tokenizer" }
    public var method: String { "VTP" }
    public var summary: String { "ViT semantic tokenizer: train, encode images to latents, decode latents" }
    public var presets: [String] { VTPPresets.names.filter { $0.hasSuffix("-s") } }
    public var settings: [String: String] { ["max_batch": String(TokenizerService.maxBatch)] }
    public func methods(config: ServiceConfig) -> [ServiceMethod] { TokenizerService.methods(loader: TokenizerLoader()) }
}
