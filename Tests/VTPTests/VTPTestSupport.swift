import ComputeCore
import Foundation
@testable import VTP

/// Shared tiny fixtures: data and MiniLM are loaded once per test process.
enum VTPFixtures {
    static let text: TextEmbeddingCache = try! TextEmbeddingCache.miniLM()
    static var dataCache: [String: VTPData] = [:]

    /// A tiny config of `variant` on Fashion-MNIST (xs preset, `steps` steps, fixed batch of 8).
    static func config(_ variant: VTPVariant, steps: Int = 6) throws -> VTPConfig {
        var c = try VTPPresets.resolve("\(variant.rawValue)-fmnist32-xs")
        c.train.steps = steps
        c.train.trainLimit = 64
        return c
    }

    static func trainer(_ c: VTPConfig) throws -> VTPTrainer {
        let key = "\(c.train.dataset)-\(c.train.trainLimit)-\(c.model.imageSize)"
        let data = try dataCache[key] ?? VTPData(config: c)
        dataCache[key] = data
        return try VTPTrainer(config: c, data: data, text: text)
    }
}
