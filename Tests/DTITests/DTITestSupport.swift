import ComputeCore
import Foundation
import Models
@testable import FlowGen
@testable import DTI

/// A tiny frozen text-conditioned generator (MiniLM-width text, 2x2x2 latents) and concept data.
enum DTITestSupport {
    nonisolated(unsafe) static var sharedEncoder: MiniLMEncoder?
    nonisolated(unsafe) static var sharedMStar: Float?

    static func encoder() throws -> MiniLMEncoder {
        if let e = sharedEncoder { return e }
        let e = try MiniLMEncoder(maxLength: 32)
        sharedEncoder = e
        return e
    }

    static func mStar() throws -> Float {
        if let m = sharedMStar { return m }
        let m = try encoder().meanVocabularyNorm()
        sharedMStar = m
        return m
    }

    /// grid 2 x 2 channels, width 32, one block, 384-d text of 8 tokens; weights moved off their
    /// (partly zero) initialisation so the output depends on the prompt.
    static func generator(seed: UInt64 = 3) throws -> FlowGenModel {
        var c = try FlowGenPresets.resolve("flowgen-xs", grid: 2, channels: 2)
        c.model.textTokens = 8
        let m = FlowGenDiT(c.model, seed: seed)
        var rng = RNG(seed: seed + 1)
        for p in m.parameters() { p.assign(p + rng.normal(p.shape, std: 0.2)) }
        m.setFrozen(true)
        return FlowGenModel(model: m, normalizer: .identity(channels: 2), config: c, step: 0, metadata: [:])
    }

    /// Four concept latents [4, 4, 2] near one point (a "subject").
    static func latents(seed: UInt64 = 7) -> Tensor {
        var rng = RNG(seed: seed)
        let center = rng.normal([1, 4, 2], std: 1)
        return Tensor.concat((0..<4).map { _ in center + rng.normal([1, 4, 2], std: 0.1) }, axis: 0)
    }

    static func objective(name: String = "<my-bag>") throws -> ConceptObjective {
        try ConceptObjective(encoder: encoder(), generator: generator(), latents: latents(), name: name,
                             templates: DTIConfig.defaultTemplates)
    }

    static func learner(_ method: ConceptMethod, steps: Int? = nil, classWord: String = "bag") throws -> ConceptLearner {
        let cfg = try DTIPresets.resolve("dti-test", method: method, steps: steps, seed: 1)
        return try ConceptLearner(config: cfg, objective: objective(), classWord: classWord, mStar: mStar())
    }

    static func norm(_ v: [Float]) -> Float { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    static func tempPath(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "dti-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }
}
