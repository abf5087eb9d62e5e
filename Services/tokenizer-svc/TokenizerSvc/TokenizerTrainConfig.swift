import ComputeCore
import RecTok
import VTP

/// A validated `tokenizer.train` request: the method its preset names, with the fully resolved
/// configuration, and the registry name of the checkpoint. `TokenizerService.validate` builds it;
/// `TokenizerService.train` dispatches on it.
public struct TokenizerTrainConfig: Sendable {
    /// The resolved configuration of one of the two tokenizer methods.
    public enum Method: Sendable {
        /// `vtp-*` presets (METHODS.md §1).
        case vtp(VTPConfig)
        /// `rectok-*` presets (METHODS.md §2).
        case rectok(RecTokConfig)
    }

    public var method: Method
    /// Name the final checkpoint is registered under.
    public var name: String

    /// The VTP configuration (nil for a RecTok preset).
    public var vtp: VTPConfig? { if case .vtp(let c) = method { return c } else { return nil } }
    /// The RecTok configuration (nil for a VTP preset).
    public var rectok: RecTokConfig? { if case .rectok(let c) = method { return c } else { return nil } }

    /// The resolved configuration as recorded with the run and the registry entry.
    public func json() throws -> String {
        switch method {
        case .vtp(let c): return try c.json()
        case .rectok(let c): return try c.json()
        }
    }
}
