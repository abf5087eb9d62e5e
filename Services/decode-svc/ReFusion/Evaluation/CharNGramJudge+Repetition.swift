import Foundation

/// Repetition measures of the text judge, so that degenerate text cannot score well: an
/// n-gram model rewards text made of its most frequent strings ("the the the"), which scores
/// better bits/char than real held-out text. Two measures:
/// - `distinctFraction` (distinct-n): distinct character n-grams over all n-grams of a set of
///   generations, pooled (low when a decoder repeats itself within or across samples);
/// - `chargedBitsPerCharacter`: bits/char where every character that completes a character
///   n-gram (`repeatOrder`) already present earlier in the prompt + generation is charged the
///   uniform cost log2(alphabet + 1) instead of the model's probability — copying earns nothing.
extension CharNGramJudge {
    /// Distinct character `n`-grams / all character `n`-grams over `texts` (pooled); 0 when no text has `n` characters.
    public static func distinctFraction(_ texts: [String], n: Int = 4) -> Double {
        precondition(n >= 1, "n must be >= 1")
        var grams = Set<String>(), total = 0
        for t in texts {
            let chars = Array(t)
            guard chars.count >= n else { continue }
            for i in 0...(chars.count - n) { grams.insert(String(chars[i..<(i + n)])); total += 1 }
        }
        return total > 0 ? Double(grams.count) / Double(total) : 0
    }

    /// How many characters of `text` complete an `order`-gram already seen earlier in `prompt + text`.
    public static func repeatedCharacters(_ text: String, prompt: String, order: Int = 6) -> Int {
        repeatedMask(Array(text), prompt: Array(prompt), order: order).filter { $0 }.count
    }

    static func repeatedMask(_ text: [Character], prompt: [Character], order: Int) -> [Bool] {
        precondition(order >= 1, "order must be >= 1")
        let all = prompt + text
        var seen = Set<String>()
        var mask = [Bool](repeating: false, count: text.count)
        guard all.count >= order else { return mask }
        for end in order...all.count {           // the n-gram all[end - order ..< end]
            let g = String(all[(end - order)..<end])
            let repeated = !seen.insert(g).inserted
            let i = end - 1 - prompt.count       // its last character, as an index into text
            if i >= 0 { mask[i] = repeated }
        }
        return mask
    }

    /// Bits per character of `text` (and its end marker) after `prompt`, every character that
    /// repeats an earlier `repeatOrder`-gram charged at least log2(alphabet + 1) bits (a uniform
    /// guess; never less than the model's own cost). Equals `bitsPerCharacter` for text without such repeats.
    public func chargedBitsPerCharacter(_ text: String, prompt: String, repeatOrder: Int = 6) -> Double {
        let chars = Array(text)
        let repeated = Self.repeatedMask(chars, prompt: Array(prompt), order: repeatOrder)
        let uniform = log2(Double(alphabet + 1))
        var hist = Array("\u{2}" + prompt)
        var bits = 0.0
        for (i, c) in (chars + ["\u{3}"]).enumerated() {
            let cost = -log2(probability(c, history: hist))
            bits += i < chars.count && repeated[i] ? max(cost, uniform) : cost
            hist.append(c)
        }
        return bits / Double(chars.count + 1)
    }
}
