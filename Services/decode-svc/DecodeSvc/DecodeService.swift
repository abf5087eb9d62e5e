import Foundation
import MeshKit
import MeshProto
import ReFusion

/// decode-svc's methods: `decode.run` (generate with the AR, MDM or ReFusion decoder) and
/// `decode.train` (train a named model, a long run with progress, checkpoints and audit).
/// Scaling: every decode-svc process consumes the same durable queue; the runtime's
/// bounded prefetch spreads requests across processes (competing consumers).
public enum DecodeService {
    /// Defaults applied when a request leaves a field at 0 / empty.
    public static let defaultMaxTokens = 64
    public static let defaultParameters = DecodeParameters(maxTokens: 64, slotSize: 4, blockSize: 8, slotThreshold: 0.5,
                                                           tokenThreshold: 0.7)
    public static let maxPromptCharacters = 256

    /// Registry kind of a trained decode model: `decode-<objective>`.
    public static func modelKind(_ objective: DecodeMode) -> String { "decode-\(objective.rawValue)" }

    /// Loaded models, cached per process by checkpoint hash.
    static let models = ModelCache<TransformerLM> { try TransformerLM.load(from: $0.path) }

    /// The decode model registered as `name` (NOT_FOUND naming `field`).
    static func model(_ name: String, field: String = "model_name", context: RunContext) throws -> TransformerLM {
        try models.model(name, field: field, service: "decode", hint: "train one with decode.train",
                         registry: try context.models())
    }

    /// `decode.run` and `decode.train`.
    public static func methods() -> [ServiceMethod] {
        [
            .typed("decode.run", summary: "generate a continuation with the ar | mdm | refusion decoder of a named model") {
                (req: Latentmesh_V1_DecodeRunRequest, ctx: RunContext) async throws -> Latentmesh_V1_DecodeRunResponse in
                try await run(req, context: ctx)
            },
            .typed("decode.train", summary: "train a decode model (objective ar | mdm | refusion) and install it by name",
                   isLongRunning: true) {
                (req: Latentmesh_V1_DecodeTrainRequest, ctx: RunContext) async throws -> Latentmesh_V1_DecodeTrainResult in
                try await train(req, context: ctx)
            },
        ]
    }

    /// A validated decode request.
    public struct RunPlan: Equatable {
        public var mode: DecodeMode
        public var modelName: String
        public var parameters: DecodeParameters
        /// Mode refusion: which II-a/II-b rules run (`.faithful` unless the request names another).
        public var variant: ReFusionDecoder.Variant = .faithful
    }

    /// `refusion_variant` values of a `DecodeRunRequest` (empty = faithful).
    public static let variantNames: [String: ReFusionDecoder.Variant] = [
        "faithful": .faithful, "draft-keeping": .draftKeeping, "draft-keeping-refill": .draftKeepingRefill,
    ]

    /// Validates a `DecodeRunRequest` (INVALID_ARGUMENT naming the field and the limit).
    public static func validate(_ r: Latentmesh_V1_DecodeRunRequest) throws -> RunPlan {
        guard !r.prompt.isEmpty else { throw ServiceError.invalid("prompt", "must not be empty") }
        guard r.prompt.count <= maxPromptCharacters else {
            throw ServiceError.invalid("prompt", "has \(r.prompt.count) characters: must be 1...\(maxPromptCharacters)")
        }
        let modeName = r.mode.isEmpty ? "refusion" : r.mode
        guard let mode = DecodeMode(rawValue: modeName) else {
            throw ServiceError.invalid("mode", "'\(r.mode)' must be one of ar, mdm, refusion")
        }
        let name = r.modelName.isEmpty ? mode.rawValue : r.modelName
        try ModelRegistry.validate(name: name, field: "model_name")
        var p = defaultParameters
        p.maxTokens = r.maxTokens == 0 ? defaultMaxTokens : Int(r.maxTokens)
        if r.slotSize != 0 { p.slotSize = Int(r.slotSize) }
        if r.blockSize != 0 { p.blockSize = Int(r.blockSize) }
        if r.slotThreshold != 0 { p.slotThreshold = r.slotThreshold }
        if r.tokenThreshold != 0 { p.tokenThreshold = r.tokenThreshold }
        if r.slotSize != 0 && r.blockSize == 0 { p.blockSize = max(p.blockSize / p.slotSize, 1) * p.slotSize }
        do { try p.validate() } catch let e as DecodeParameters.Invalid {
            throw ServiceError(.invalidArgument, field: e.field, e.message)
        }
        var variant = ReFusionDecoder.Variant.faithful
        if !r.refusionVariant.isEmpty {
            guard let v = variantNames[r.refusionVariant] else {
                throw ServiceError.invalid("refusion_variant",
                                           "'\(r.refusionVariant)' must be one of \(variantNames.keys.sorted().joined(separator: ", "))")
            }
            guard mode == .refusion else {
                throw ServiceError.invalid("refusion_variant", "applies to mode refusion only, not mode \(mode.rawValue)")
            }
            variant = v
        }
        return RunPlan(mode: mode, modelName: name, parameters: p, variant: variant)
    }

    static func run(_ r: Latentmesh_V1_DecodeRunRequest, context: RunContext) async throws -> Latentmesh_V1_DecodeRunResponse {
        let plan = try validate(r)
        let model = try model(plan.modelName, context: context)
        switch (plan.mode, model.config.causal) {
        case (.mdm, true):
            throw ServiceError.invalid("mode", "model '\(plan.modelName)' is causal; mode mdm needs a masked-diffusion model")
        case (.ar, false), (.refusion, false):
            throw ServiceError.invalid("mode", "model '\(plan.modelName)' is bidirectional (masked diffusion); use mode mdm")
        default: break
        }
        let vocab = CharVocabulary()
        let prompt = [CharVocabulary.bos] + vocab.encode(r.prompt)
        let limit = model.config.maxPositions - prompt.count
        guard plan.parameters.maxTokens <= limit else {
            throw ServiceError.outOfRange("max_tokens", plan.parameters.maxTokens, 1...max(limit, 1))
        }
        try context.checkCancelled()
        let t0 = Date()
        let out = await context.compute {
            DecoderUnderTest(name: plan.mode.rawValue, mode: plan.mode, model: model, parameters: plan.parameters,
                             variant: plan.variant)
                .decode(prompt, maxTokens: plan.parameters.maxTokens)
        }
        var resp = Latentmesh_V1_DecodeRunResponse()
        resp.text = vocab.decode(out.tokens)
        resp.promptTokens = Int32(prompt.count)
        resp.generatedTokens = Int32(out.tokens.count)
        resp.forwards = Int32(out.forwards)
        resp.seconds = Date().timeIntervalSince(t0)
        resp.unverifiedCommits = Int32(out.unverifiedCommits)
        resp.belowThresholdCommits = Int32(out.belowThresholdCommits)
        return resp
    }
}
