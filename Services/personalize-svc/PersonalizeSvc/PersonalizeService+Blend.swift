import ComputeCore
import DTI
import Foundation
import MeshKit
import MeshProto
import RunStore

/// `personalize.blend`: a new concept on the great circle between two learned ones
/// (METHODS.md §4: slerp of the directions; the norm interpolates linearly between the two
/// concepts' norms, which is m* for DTI concepts), registered like a learned concept so any
/// prompt can use it (`generator.generate "a <blend>"`).
extension PersonalizeService {
    /// The facts of a registered concept a blend needs: vector, generator, m*, method.
    struct ConceptFacts {
        let embedding: ConceptEmbedding
        let generator: String
        let mStar: Double?
        let method: String
        var norm: Float { embedding.vector.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    }

    static func facts(_ token: String, field: String, registry: ModelRegistry) throws -> ConceptFacts {
        do { try ConceptName.validate(token) } catch {
            throw ServiceError.invalid(field, "must name a concept like <my-bag>, got '\(token)'")
        }
        let e = try registry.concept(token, field: field)
        let cfg = (try? JSONSerialization.jsonObject(with: Data(e.record.configJSON.utf8)) as? [String: Any]) ?? [:]
        guard let gen = e.record.parents.first else {
            throw ServiceError(.internalError, field: field, "concept \(token) does not record its generator")
        }
        return ConceptFacts(embedding: e, generator: gen, mStar: cfg["m_star"] as? Double, method: cfg["method"] as? String ?? "?")
    }

    static func blend(_ req: Latentmesh_V1_BlendConceptsRequest, context: RunContext) async throws -> Latentmesh_V1_BlendConceptsResult {
        guard req.t.isFinite, (0...1).contains(req.t) else { throw ServiceError.outOfRange("t", req.t, 0...1) }
        do { try ConceptName.validate(req.name) } catch {
            throw ServiceError.invalid("name", "must look like <my-blend> ('<' + 1-\(ConceptName.maxLength) of a-z 0-9 _ - + '>'), got '\(req.name)'")
        }
        let registry = try context.models()
        let modelName = ModelRegistry.conceptModelName(req.name)
        if context.attempt <= 1, try registry.exists(modelName) {
            throw ServiceError.invalid("name", "\(req.name) is already taken; choose another name")
        }
        let a = try facts(req.conceptA, field: "concept_a", registry: registry)
        let b = try facts(req.conceptB, field: "concept_b", registry: registry)
        guard req.conceptA != req.conceptB else { throw ServiceError.invalid("concept_b", "must differ from concept_a (\(req.conceptA))") }
        guard a.generator == b.generator else {
            throw ServiceError.invalid("concept_b", "\(req.conceptB) was learned on generator '\(b.generator)', \(req.conceptA) on '\(a.generator)': blend needs concepts of one generator")
        }
        guard a.embedding.vector.count == b.embedding.vector.count, a.mStar == nil || b.mStar == nil || abs(a.mStar! - b.mStar!) <= 1e-6 * abs(a.mStar!) else {
            throw ServiceError.invalid("concept_b", "\(req.conceptB) was learned with another text encoder (width \(b.embedding.vector.count), m* \(b.mStar ?? .nan)) than \(req.conceptA) (width \(a.embedding.vector.count), m* \(a.mStar ?? .nan))")
        }
        let t = req.t
        let norm = (1 - t) * a.norm + t * b.norm
        let e = ConceptBlend.blend(a.embedding.vector, b.embedding.vector, t: t, norm: norm)   // [D]
        let angle = acos(max(-1, min(1, Double(zip(ConceptBlend.normalized(a.embedding.vector), ConceptBlend.normalized(b.embedding.vector))
            .reduce(0) { $0 + $1.0 * $1.1 }))))
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("blend-\(context.runID)-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try Safetensors.write([("embedding", Tensor(e, shape: [1, e.count]))],
                              metadata: ["format": "latentmesh.concept-blend.v1", "concept_a": req.conceptA, "concept_b": req.conceptB,
                                         "t": String(t), "norm": String(norm)], to: tmp.path)
        let art = try registry.artifacts.put(fileAt: tmp, mediaType: conceptMediaType, runID: context.runID)
        var o: [String: Any] = ["name": req.name, "method": "blend", "concept_a": req.conceptA, "concept_b": req.conceptB,
                                "t": Double(t), "generator_model": a.generator, "vector": e.map(Double.init), "norm": Double(norm),
                                "angle": angle, "blended_methods": [a.method, b.method]]
        if let m = a.mStar { o["m_star"] = m }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
        try registry.register(name: modelName, artifact: art, kind: ModelRegistry.conceptKind, service: context.service,
                              configJSON: json, parents: [a.generator, modelNameOf(req.conceptA), modelNameOf(req.conceptB)],
                              runID: context.runID)
        var r = Latentmesh_V1_BlendConceptsResult()
        r.conceptName = req.name; r.norm = norm; r.angle = Float(angle)
        return r
    }

    static func modelNameOf(_ token: String) -> String { ModelRegistry.conceptModelName(token) }
}
