import ComputeCore
import Models

/// The learnable embedding of a new word appended to MiniLM's vocabulary (METHODS.md §4).
/// DTI: the parameter is the unit direction v and e = m*·v (‖e‖ = m* always); TI: the parameter
/// is e itself. Both start at the class word's embedding direction (TI: the class word's row).
public final class ConceptToken {
    public let method: ConceptMethod
    /// Mean L2 norm of the non-zero rows of this encoder's word-embedding table.
    public let mStar: Float
    /// The class word's embedding row. [D]
    public let classEmbedding: [Float]
    /// v (DTI, unit) or e (TI). [1, D], requires grad.
    public let parameter: Tensor

    public init(method: ConceptMethod, mStar: Float, classEmbedding: [Float]) {
        self.method = method; self.mStar = mStar; self.classEmbedding = classEmbedding
        let start = method == .dti ? ConceptBlend.normalized(classEmbedding) : classEmbedding
        parameter = Tensor(start, shape: [1, classEmbedding.count]).requiringGrad()
    }

    /// The embedding fed to MiniLM: m*·v (DTI) or e (TI). [1, D], differentiable in `parameter`.
    public var embedding: Tensor { method == .dti ? parameter * mStar : parameter }
    /// Current embedding values. [D]
    public var vector: [Float] { method == .dti ? parameter.array.map { $0 * mStar } : parameter.array }
    /// ‖e‖.
    public var norm: Float { vector.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    /// Cosine between e and the class word's embedding.
    public var classCosine: Float {
        zip(ConceptBlend.normalized(vector), ConceptBlend.normalized(classEmbedding)).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// The embedding row of `word`, which must be one entry of the encoder's vocabulary (lowercase).
    public static func classEmbedding(_ word: String, encoder: MiniLMEncoder) throws -> [Float] {
        let w = word.lowercased()
        guard !w.isEmpty, !w.hasPrefix("["), let id = encoder.tokenizer.ids[w] else {
            throw MethodError.invalidInput(field: "class_word", message: "'\(word)' is not a single word of the MiniLM vocabulary")
        }
        return encoder.inputEmbeddings([id])
    }
}
