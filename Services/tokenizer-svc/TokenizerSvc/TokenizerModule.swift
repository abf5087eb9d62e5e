import MeshKit
import RecTok
import VTP

/// tokenizer-svc: the VTP semantic tokenizer and RecTok (train, encode images to latents, decode latents).
public struct TokenizerModule: ServiceModule {
    public init() {}
    public var name: String { "tokenizer" }
    public var method: String { "VTP, RecTok" }
    public var summary: String { "ViT semantic tokenizers (VTP, RecTok): train, encode images to latents, decode latents" }
    public var presets: [String] { TokenizerPresets.names.filter { $0.hasSuffix("-s") } }
    public var settings: [String: String] { ["max_batch": String(TokenizerService.maxBatch)] }
    public func methods(config: ServiceConfig) -> [ServiceMethod] { TokenizerService.methods(loader: TokenizerLoader()) }
}
