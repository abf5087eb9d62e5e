import ComputeCore
import Foundation

/// Resumable learner state and the concept's artifact: one safetensors file with the parameter
/// (`token`: v for DTI, e for TI), the embedding fed to MiniLM (`embedding` = e, [1, 384]; what
/// prompts use), the AdamW moments for TI, and metadata (`format`, config JSON, completed step,
/// `norm`, `m_star`).
extension ConceptLearner {
    public static let checkpointFormat = "latentmesh.concept.v1"

    public func save(to path: String) throws {
        var tensors: [(String, Tensor)] = [("token", token.parameter), ("embedding", Tensor(token.vector, shape: [1, token.vector.count]))]
        var meta = ["format": ConceptLearner.checkpointFormat, "config": try config.json(), "step": String(stepIndex),
                    "norm": String(token.norm), "m_star": String(token.mStar)]
        if let adam = optimizer as? AdamW {
            tensors += adam.state(names: ["token"])
            meta["optim_step"] = String(adam.stepCount)
        }
        try Safetensors.write(tensors, metadata: meta, to: path)
    }

    /// Restores parameter, optimiser state and step (the config must match this learner's).
    public func restore(from path: String) throws {
        let f = try SafetensorsFile(path: path)
        guard f.metadata["format"] == ConceptLearner.checkpointFormat, let json = f.metadata["config"],
              let step = f.metadata["step"].flatMap(Int.init) else {
            throw MethodError.checkpoint("\(path) is not a \(ConceptLearner.checkpointFormat) checkpoint")
        }
        guard try DTIConfig.from(json: json) == config else { throw MethodError.checkpoint("\(path) was written with another configuration") }
        let all = try f.all()
        guard let p = all["token"], p.count == token.parameter.count else { throw MethodError.checkpoint("missing or mis-shaped token") }
        token.parameter.assign(p)
        if let adam = optimizer as? AdamW {
            try adam.load(all, names: ["token"], stepCount: Int(f.metadata["optim_step"] ?? "") ?? step)
        }
        stepIndex = step
    }
}
