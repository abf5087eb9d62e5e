/// A cached model's name derived from its training recipe: `<prefix>-<8 hex digits of FNV-1a of
/// the recipe's fields joined by "|">`, so a changed recipe never reuses a stale model
/// (`ReportModelNames` in meshctl and the decode experiment's cache both name models with it).
public enum RecipeName {
    public static func name(_ prefix: String, _ recipe: [String]) -> String {
        var h: UInt32 = 2_166_136_261
        for byte in recipe.joined(separator: "|").utf8 { h = (h ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(h, radix: 16)
        return "\(prefix)-\(String(repeating: "0", count: 8 - hex.count))\(hex)"
    }
}
