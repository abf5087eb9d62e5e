/// Size and attention pattern of a decode model. The AR, ReFusion and masked-diffusion
/// models of one preset have identical sizes; only `causal` differs (MDM is bidirectional).
public struct TransformerConfig: Sendable, Equatable, Codable {
    public var vocab: Int
    public var width: Int
    public var depth: Int
    public var heads: Int
    public var mlpRatio: Int
    /// Longest position id + 1 the model is used with (cache capacity is twice this).
    public var maxPositions: Int
    public var causal: Bool
    public var ropeBase: Float

    public init(vocab: Int = CharVocabulary().size, width: Int, depth: Int, heads: Int, mlpRatio: Int = 4,
                maxPositions: Int = 128, causal: Bool = true, ropeBase: Float = 10000) {
        self.vocab = vocab; self.width = width; self.depth = depth; self.heads = heads; self.mlpRatio = mlpRatio
        self.maxPositions = maxPositions; self.causal = causal; self.ropeBase = ropeBase
    }

    public var headDim: Int { width / heads }

    /// Named sizes: `tiny` for tests, `small` for the report and benchmark, `base` for longer runs.
    public static func preset(_ name: String, causal: Bool = true) -> TransformerConfig? {
        switch name {
        case "tiny": return TransformerConfig(width: 32, depth: 2, heads: 2, maxPositions: 128, causal: causal)
        case "small": return TransformerConfig(width: 64, depth: 3, heads: 4, maxPositions: 128, causal: causal)
        case "base": return TransformerConfig(width: 160, depth: 4, heads: 5, maxPositions: 128, causal: causal)
        default: return nil
        }
    }

    public static let presetNames = ["tiny", "small", "base"]

    /// Metadata strings stored in checkpoints.
    public var metadata: [String: String] {
        ["vocab": "\(vocab)", "width": "\(width)", "depth": "\(depth)", "heads": "\(heads)", "mlp_ratio": "\(mlpRatio)",
         "max_positions": "\(maxPositions)", "causal": causal ? "1" : "0", "rope_base": "\(ropeBase)"]
    }

    public init?(metadata m: [String: String]) {
        guard let v = m["vocab"].flatMap(Int.init), let w = m["width"].flatMap(Int.init),
              let d = m["depth"].flatMap(Int.init), let h = m["heads"].flatMap(Int.init),
              let r = m["mlp_ratio"].flatMap(Int.init), let p = m["max_positions"].flatMap(Int.init),
              let c = m["causal"], let b = m["rope_base"].flatMap(Float.init) else { return nil }
        self.init(vocab: v, width: w, depth: d, heads: h, mlpRatio: r, maxPositions: p, causal: c == "1", ropeBase: b)
    }
}
