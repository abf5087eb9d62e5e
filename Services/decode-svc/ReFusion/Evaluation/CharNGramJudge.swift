import Foundation

/// An independent judge of generated text: a character n-gram language model trained on
/// the corpus's training split, interpolating orders 0...n (Jelinek-Mercer with fixed
/// weights) with a uniform floor. Reports bits per character of a text given its prompt —
/// lower means closer to the corpus. It shares nothing with the neural models, so it does
/// not favour any of the three decoders.
public struct CharNGramJudge: Sendable {
    public let order: Int
    private var counts: [[String: [Character: Int]]]   // counts[n][history] -> next char counts
    private var totals: [[String: Int]]
    /// Characters the uniform floor spreads over (plus one for the end marker).
    public let alphabet: Int

    public init(corpus: [String], order: Int = 4, alphabet: Int = 96) {
        self.order = order; self.alphabet = alphabet
        counts = Array(repeating: [:], count: order + 1)
        totals = Array(repeating: [:], count: order + 1)
        for line in corpus {
            let chars = Array("\u{2}" + line + "\u{3}")
            for i in 1..<chars.count {
                for n in 0...order where i - n >= 0 {
                    let h = String(chars[(i - n)..<i])
                    counts[n][h, default: [:]][chars[i], default: 0] += 1
                    totals[n][h, default: 0] += 1
                }
            }
        }
    }

    /// Probability of `c` after `history` (the last `order` characters are used).
    public func probability(_ c: Character, history: [Character]) -> Double {
        var p = 1.0 / Double(alphabet + 1)
        for n in 0...order where history.count >= n {
            let h = String(history.suffix(n))
            guard let t = totals[n][h], t > 0 else { continue }
            let ml = Double(counts[n][h]?[c] ?? 0) / Double(t)
            let lambda = Double(t) / (Double(t) + 3)     // trust longer contexts once they have data
            p = lambda * ml + (1 - lambda) * p
        }
        return p
    }

    /// Bits per character of `text` (and its end marker) after `prompt`.
    public func bitsPerCharacter(_ text: String, prompt: String) -> Double {
        var hist = Array("\u{2}" + prompt)
        var bits = 0.0
        let chars = Array(text) + ["\u{3}"]
        for c in chars {
            bits -= log2(probability(c, history: hist))
            hist.append(c)
        }
        return bits / Double(chars.count)
    }
}
