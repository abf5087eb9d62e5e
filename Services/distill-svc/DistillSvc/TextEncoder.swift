import FlowGen
import Foundation
import Models

/// Frozen MiniLM token features of prompts (the generator's text context), loaded once per process.
enum TextEncoder {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var encoder: MiniLMEncoder?

    static func shared() throws -> TextEncoderHandle {
        lock.lock(); defer { lock.unlock() }
        if let e = encoder { return TextEncoderHandle(encoder: e) }
        let e = try MiniLMEncoder(maxLength: 32)
        encoder = e
        return TextEncoderHandle(encoder: e)
    }
}

/// One prompt at a time, so a prompt's features never depend on the others.
struct TextEncoderHandle {
    let encoder: MiniLMEncoder
    func features(_ prompts: [String]) throws -> [TextFeatures] {
        prompts.map { p in
            let ids = encoder.tokenize(p)
            return TextFeatures(values: encoder.tokenFeatures(ids: ids), length: ids.count, dim: MiniLMEncoder.width)
        }
    }
}
