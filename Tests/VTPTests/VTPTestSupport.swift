import ComputeCore
import Foundation
import TestKit
import XCTest
@testable import VTP

/// Shared tiny fixtures: data and MiniLM are loaded once per test process.
enum VTPFixtures {
    nonisolated(unsafe) static var cachedText: TextEmbeddingCache?

    /// The frozen MiniLM text encoder; missing fails under the test command (skips by hand).
    static func text() throws -> TextEmbeddingCache {
        if let t = cachedText { return t }
        do { cachedText = try TextEmbeddingCache.miniLM() } catch {
            throw TestRequirement.missing("MiniLM", hint: "run scripts/prepare-models (\(error))")
        }
        return cachedText!
    }
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
        return try VTPTrainer(config: c, data: data, text: try text())
    }
}
