import ComputeCore
import Evaluation
import Models

/// DTI's positional probe (METHODS.md §4; the paper's Fig. 3): how well a token's position can be
/// read from MiniLM's first LayerNorm output. A linear probe (multinomial logistic regression,
/// `LinearProbe`) is fitted to predict the position p in 0..<P from LN(w + pos_p + type_0) for
/// ordinary vocabulary words w; its L2 strength is chosen on other words (never the scored
/// token). The probe value of an embedding e is the fraction of the P positions it recovers
/// from LN(e + pos_p + type_0): 1 for vocabulary-sized norms, chance (1/P) once ‖e‖ drowns the
/// position signal.
public struct PositionalProbe {
    /// Positions probed (0..<positions); prompts here are at most 32 tokens.
    public let positions: Int
    public let probe: LinearProbe
    let encoder: MiniLMEncoder

    /// Fits the probe on `trainWords` random whole-word vocabulary rows at every position and
    /// chooses its regulariser on `validationWords` other rows.
    public init(encoder: MiniLMEncoder, positions: Int = 32, trainWords: Int = 48, validationWords: Int = 24, seed: UInt64 = 0x9B0B) throws {
        guard (2...MiniLMEncoder.maxPositions).contains(positions) else {
            throw MethodError.invalidInput(field: "positions", message: "must be in 2...512, got \(positions)")
        }
        self.encoder = encoder; self.positions = positions
        // Whole words (no "##" pieces, no [special] tokens) with a non-zero row, in id order.
        let words = encoder.tokenizer.vocabulary.enumerated().filter { id, w in
            !w.hasPrefix("##") && !w.hasPrefix("[") && w.count >= 3 && w.allSatisfy(\.isLetter)
                && encoder.wordEmbeddings[(id * MiniLMEncoder.width)..<((id + 1) * MiniLMEncoder.width)].contains { $0 != 0 }
        }.map(\.offset)
        guard words.count >= trainWords + validationWords else {
            throw MethodError.invalidInput(field: "trainWords", message: "the vocabulary has only \(words.count) whole words")
        }
        var rng = RNG(seed: seed)
        var pool = words
        for i in stride(from: pool.count - 1, to: 0, by: -1) { pool.swapAt(i, rng.int(i + 1)) }
        func set(_ ids: ArraySlice<Int>) -> ([[Float]], [Int]) {
            var x: [[Float]] = [], y: [Int] = []
            for id in ids {
                let row = encoder.inputEmbeddings([Int32(id)])
                x += PositionalProbe.features(encoder, row: row, positions: positions); y += Array(0..<positions)
            }
            return (x, y)
        }
        let (tx, ty) = set(pool[0..<trainWords]), (vx, vy) = set(pool[trainWords..<(trainWords + validationWords)])
        probe = try LinearProbe(trainX: tx, trainY: ty, valX: vx, valY: vy, classes: positions, lambdas: [1e-4, 1e-2],
                            iterations: 150)
    }

    /// LN(row + pos_p + type_0) for p in 0..<positions. row [384] -> [positions][384]
    static func features(_ encoder: MiniLMEncoder, row: [Float], positions: Int) -> [[Float]] {
        let D = MiniLMEncoder.width
        let out = encoder.firstLayerNormOutput(rows: Array((0..<positions).map { _ in row }.joined()), positions: Array(0..<positions))
        return (0..<positions).map { Array(out[($0 * D)..<(($0 + 1) * D)]) }
    }

    /// Fraction of positions the probe recovers for the input embedding `e` [384].
    public func value(_ e: [Float]) -> Double {
        probe.accuracy(Self.features(encoder, row: e, positions: positions), Array(0..<positions))
    }

    /// Probe value of `direction` scaled to each of `norms` (the probe-vs-norm curve).
    public func curve(direction: [Float], norms: [Float]) -> [Double] {
        let u = ConceptBlend.normalized(direction)
        return norms.map { n in value(u.map { $0 * n }) }
    }

    /// Accuracy on the held-out vocabulary words the regulariser was chosen on.
    public var validationAccuracy: Double { probe.result.validationAccuracy }
}
