import RecTok
import VTP

/// Preset prefixes `tokenizer.train` dispatches on.
public enum TokenizerPresets {
    /// Prefix of RecTok presets.
    public static let rectokPrefix = "rectok-"

    /// Whether `preset` names a RecTok preset.
    public static func isRecTok(_ preset: String) -> Bool { preset.hasPrefix(rectokPrefix) }

    /// Every preset `tokenizer.train` accepts: VTP's, then RecTok's.
    public static var names: [String] { VTPPresets.names + RecTokPresets.names }
}
