import ComputeCore
import Datasets
import DTI
import FlowGen
import Foundation
import MeshKit
import MeshProto
import Models
import RunStore
import VTP

/// personalize-svc handlers: `personalize.learn` adapts a LearnConceptRequest to the DTI library and
/// runs it on the shared training driver; the concept is registered (kind `concept`, name
/// `concept.<inner>`, generator as parent) so `ModelRegistry.concept(_:field:)` resolves `<name>`.
public enum PersonalizeService {
    public static let maxImages = 64
    public static let maxSteps: Int32 = 100_000
    static let defaultKappa: Float = 1e-4

    public static func methods(loader: PersonalizeLoader) -> [ServiceMethod] {
        [
            .typed("personalize.learn", summary: "learn a new word <name> from a few images (DTI or TI) on a frozen generator",
                   isLongRunning: true) { (req: Latentmesh_V1_LearnConceptRequest, ctx) in
                try await learn(req, context: ctx, loader: loader)
            },
        ]
    }

    /// Request checks that need no model: name shape, images present, method, steps, kappa.
    static func validate(_ req: Latentmesh_V1_LearnConceptRequest) throws -> DTIConfig {
        do { try ConceptName.validate(req.conceptName) } catch {
            throw ServiceError.invalid("concept_name", "must look like <my-bag> ('<' + 1-\(ConceptName.maxLength) of a-z 0-9 _ - + '>'), got '\(req.conceptName)'")
        }
        guard !req.imagesPng.isEmpty else { throw ServiceError.invalid("images_png", "must hold 1...\(maxImages) images of the concept") }
        guard req.imagesPng.count <= maxImages else { throw ServiceError.outOfRange("images_png.count", req.imagesPng.count, 1...maxImages) }
        guard let method = ConceptMethod(rawValue: req.method.isEmpty ? "dti" : req.method) else {
            throw ServiceError.invalid("method", "must be dti or ti, got '\(req.method)'")
        }
        guard (0...maxSteps).contains(req.steps) else { throw ServiceError.outOfRange("steps", req.steps, 0...maxSteps) }
        guard req.kappa >= 0 && req.kappa <= 100 else { throw ServiceError.outOfRange("kappa", req.kappa, 0...100) }
        var config: DTIConfig
        do { config = try DTIPresets.resolve(DTIPresets.defaultName, method: method, steps: req.steps > 0 ? Int(req.steps) : nil, seed: req.seed) }
        catch { throw ServiceError.invalid("steps", "\(error)") }
        config.kappa = req.kappa > 0 ? req.kappa : defaultKappa
        return config
    }

    static func learn(_ req: Latentmesh_V1_LearnConceptRequest, context: RunContext,
                      loader: PersonalizeLoader) async throws -> Latentmesh_V1_LearnConceptResult {
        let config = try validate(req)
        let name = req.conceptName, modelName = ModelRegistry.conceptModelName(name)
        let registry = try context.models()
        if context.attempt <= 1, try registry.exists(modelName) {
            throw ServiceError.invalid("concept_name", "\(name) is already taken; choose another name")
        }
        let (encoder, mStar) = try loader.encoder()
        do { _ = try ConceptToken.classEmbedding(req.classWord, encoder: encoder) } catch {
            throw ServiceError.invalid("class_word", "'\(req.classWord)' is not a single word of the MiniLM vocabulary")
        }
        let (gen, tok) = try loader.generator(req.generatorModel, context: context)
        let size = tok.imageSize
        var images: [ImageBuffer] = []
        for (i, png) in req.imagesPng.enumerated() {
            let img: ImageBuffer
            do { img = try PNGCodec.decode([UInt8](png)) } catch {
                throw ServiceError.invalid("images_png[\(i)]", "is not a decodable PNG (\(error))")
            }
            guard img.width == size && img.height == size else {
                throw ServiceError.invalid("images_png[\(i)]", "is \(img.width)x\(img.height), must be \(size)x\(size) for generator '\(req.generatorModel)'")
            }
            images.append(img.rgb())
        }
        let z = try await context.compute { try tok.encode(images) }          // [N, T, C]
        let learner: ConceptLearner
        do {
            let objective = try ConceptObjective(encoder: encoder, generator: gen, latents: z, name: name, templates: config.templates)
            learner = try ConceptLearner(config: config, objective: objective, classWord: req.classWord, mStar: mStar)
        } catch let e as MethodError {
            if case let .invalidInput(f, m) = e { throw ServiceError.invalid(f, m) }
            throw ServiceError(.internalError, "\(e)")
        }
        let shas = req.imagesPng.map { SHA256.hex(Data($0)) }
        let plan = TrainingPlan(modelName: modelName, kind: ModelRegistry.conceptKind,
                                mediaType: "application/vnd.latentmesh.concept+safetensors",
                                configJSON: try record(config: config, name: name, classWord: req.classWord, generator: req.generatorModel,
                                                       images: shas, learner: nil),
                                seed: config.seed, parents: [req.generatorModel], checkpointEvery: max(config.steps / 4, 1))
        let out = try await TrainingRun.run(ConceptTrainingSession(learner), plan: plan, context: context)
        // Re-register with the finished token's facts (vector, norm) next to the resolved config.
        try registry.register(name: modelName, artifact: out.artifact, kind: ModelRegistry.conceptKind, service: context.service,
                              configJSON: try record(config: config, name: name, classWord: req.classWord, generator: req.generatorModel,
                                                     images: shas, learner: learner),
                              parents: [req.generatorModel], runID: context.runID)
        var result = Latentmesh_V1_LearnConceptResult()
        result.conceptName = name
        result.norm = learner.token.norm
        result.finalMetrics = out.finalMetrics
        return result
    }

    /// The registry record's config: name, method, class word, generator, images' sha256s, the
    /// resolved learning config, and (when finished) the vector, its norm and m*.
    static func record(config: DTIConfig, name: String, classWord: String, generator: String, images: [String],
                       learner: ConceptLearner?) throws -> String {
        var o: [String: Any] = ["name": name, "method": config.method.rawValue, "class_word": classWord,
                                "generator_model": generator, "images_sha256": images,
                                "config": try JSONSerialization.jsonObject(with: Data(try config.json().utf8))]
        if let l = learner {
            o["vector"] = l.token.vector.map(Double.init); o["norm"] = Double(l.token.norm); o["m_star"] = Double(l.token.mStar)
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
    }
}
