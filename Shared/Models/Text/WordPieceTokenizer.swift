import Foundation

/// BERT uncased WordPiece tokenizer: text cleanup, CJK spacing, lowercasing, accent stripping,
/// whitespace + punctuation splitting, greedy longest-match `##` pieces, `[UNK]`,
/// `[CLS] ... [SEP]` framing and truncation. (Devlin et al. 2019, section 3; Wu et al. 2016.)
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: [String]
    public let ids: [String: Int32]
    public let unknownID: Int32
    public let clsID: Int32
    public let sepID: Int32
    public let padID: Int32
    /// Words longer than this many characters become `[UNK]`.
    public let maxCharsPerWord = 100

    /// Loads `vocab.txt` (one token per line; the line number is the id).
    public init(vocabPath: String) throws {
        guard let data = FileManager.default.contents(atPath: vocabPath) else { throw ModelError.notFound(vocabPath) }
        var vocab = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
        if vocab.last == "" { vocab.removeLast() }
        vocab = vocab.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        try self.init(vocabulary: vocab)
    }

    /// Builds from a token list (index = id); it must contain [UNK], [CLS], [SEP] and [PAD].
    public init(vocabulary: [String]) throws {
        var map: [String: Int32] = [:]
        for (i, t) in vocabulary.enumerated() where map[t] == nil { map[t] = Int32(i) }
        func special(_ s: String) throws -> Int32 {
            guard let id = map[s] else { throw ModelError.invalidArgument(field: "vocabulary", message: "missing special token \(s)") }
            return id
        }
        self.vocabulary = vocabulary
        self.ids = map
        self.unknownID = try special("[UNK]")
        self.clsID = try special("[CLS]")
        self.sepID = try special("[SEP]")
        self.padID = try special("[PAD]")
    }

    /// Token ids with `[CLS]`/`[SEP]`, truncated to `maxLength` (>= 2) including both.
    public func encode(_ text: String, maxLength: Int = 256) -> [Int32] {
        precondition(maxLength >= 2, "maxLength must be >= 2")
        var out: [Int32] = [clsID]
        for word in basicTokens(text) {
            out.append(contentsOf: wordPieces(word))
            if out.count >= maxLength - 1 { break }
        }
        if out.count > maxLength - 1 { out.removeLast(out.count - (maxLength - 1)) }
        out.append(sepID)
        return out
    }

    /// Token strings for ids.
    public func tokens(_ ids: [Int32]) -> [String] {
        ids.map { Int($0) < vocabulary.count && $0 >= 0 ? vocabulary[Int($0)] : "[UNK]" }
    }

    /// Cleans, lowercases, strips accents and splits on whitespace and punctuation.
    public func basicTokens(_ text: String) -> [String] {
        // 1. Clean: drop NUL, U+FFFD and control characters; whitespace becomes a space;
        //    CJK ideographs are surrounded by spaces.
        var cleaned = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.value == 0 || s.value == 0xFFFD || WordPieceTokenizer.isControl(s) { continue }
            if WordPieceTokenizer.isWhitespace(s) { cleaned.append(" "); continue }
            if WordPieceTokenizer.isCJK(s) {
                cleaned.append(" "); cleaned.append(s); cleaned.append(" ")
            } else {
                cleaned.append(s)
            }
        }
        var words: [String] = []
        for raw in String(cleaned).split(separator: " ", omittingEmptySubsequences: true) {
            // 2. Lowercase, then NFD and drop combining marks (accent stripping).
            let lowered = raw.lowercased().decomposedStringWithCanonicalMapping
            var current = String.UnicodeScalarView()
            for s in lowered.unicodeScalars {
                if s.properties.generalCategory == .nonspacingMark { continue }
                // 3. Every punctuation character is its own token.
                if WordPieceTokenizer.isPunctuation(s) {
                    if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
                    words.append(String(s))
                } else {
                    current.append(s)
                }
            }
            if !current.isEmpty { words.append(String(current)) }
        }
        return words
    }

    /// Greedy longest-match-first WordPiece split of one word; `[UNK]` if any part fails.
    public func wordPieces(_ word: String) -> [Int32] {
        let scalars = Array(word.unicodeScalars)
        if scalars.count > maxCharsPerWord { return [unknownID] }
        var pieces: [Int32] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int32?
            while start < end {
                var sub = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { sub = "##" + sub }
                if let id = ids[sub] { found = id; break }
                end -= 1
            }
            guard let id = found else { return [unknownID] }
            pieces.append(id)
            start = end
        }
        return pieces
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        if s == " " || s == "\t" || s == "\n" || s == "\r" { return true }
        return s.properties.generalCategory == .spaceSeparator
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        return (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}
