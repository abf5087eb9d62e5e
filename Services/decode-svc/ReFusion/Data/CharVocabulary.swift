/// Character-level vocabulary shared by every decode model: four special tokens, then
/// newline and printable ASCII (32...126). Unknown characters map to `?`.
///
/// Ids: [PAD]=0, [BOS]=1, [EOS]=2, [MASK]=3, "\n"=4, " "=5, ..., "~"=99 (100 tokens).
public struct CharVocabulary: Sendable, Equatable {
    public static let pad = 0
    public static let bos = 1
    public static let eos = 2
    public static let mask = 3
    public static let specialCount = 4
    public static let specialNames = ["[PAD]", "[BOS]", "[EOS]", "[MASK]"]

    /// Characters after the specials, in id order.
    public let characters: [Character]
    private let index: [Character: Int]

    public init() {
        var chars: [Character] = ["\n"]
        for u in UInt8(32)...UInt8(126) { chars.append(Character(Unicode.Scalar(u))) }
        characters = chars
        var idx: [Character: Int] = [:]
        for (i, c) in chars.enumerated() { idx[c] = i + Self.specialCount }
        index = idx
    }

    public var size: Int { Self.specialCount + characters.count }

    public func isSpecial(_ id: Int) -> Bool { id < Self.specialCount }

    /// Token ids of `text`, one per character (no BOS/EOS added).
    public func encode(_ text: String) -> [Int] {
        text.map { c in index[c] ?? index["?"]! }
    }

    /// Text of `ids`; specials are dropped unless `showSpecials`.
    public func decode(_ ids: [Int], showSpecials: Bool = false) -> String {
        var s = ""
        for id in ids {
            if id >= Self.specialCount && id < size {
                s.append(characters[id - Self.specialCount])
            } else if showSpecials && id >= 0 && id < Self.specialCount {
                s += Self.specialNames[id]
            }
        }
        return s
    }
}
