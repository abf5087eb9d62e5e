import Datasets
import Foundation

/// Zero-shot classification from any pair of embedding functions (Radford et al. 2021, 3.1.4):
/// each class is the normalised mean of its prompt-template text embeddings; an image is
/// assigned the class of highest cosine similarity.
public struct ZeroShotClassifier {
    /// Class embeddings, L2-normalised. // [K, E]
    public let classEmbeddings: [[Float]]
    public let classNames: [String]

    /// Builds class embeddings with `textEmbed` over every template x class name.
    public init(classNames: [String], templates: CaptionTemplates, textEmbed: ([String]) throws -> [[Float]]) throws {
        guard !classNames.isEmpty else { throw EvaluationError.invalidArgument(field: "classNames", message: "must not be empty") }
        var embs: [[Float]] = []
        for name in classNames {
            let vecs = try textEmbed(templates.all(name))
            guard let d = vecs.first?.count, d > 0, vecs.allSatisfy({ $0.count == d }) else {
                throw EvaluationError.invalidArgument(field: "textEmbed", message: "returned empty or ragged embeddings for \(name)")
            }
            var mean = [Float](repeating: 0, count: d)
            for v in vecs { let u = ZeroShotClassifier.normalized(v); for j in 0..<d { mean[j] += u[j] } }
            embs.append(ZeroShotClassifier.normalized(mean))
        }
        self.classEmbeddings = embs
        self.classNames = classNames
    }

    /// Predicted class per image embedding. imageEmbeddings [N, E] -> [N]
    public func predict(_ imageEmbeddings: [[Float]]) throws -> [Int] {
        let e = classEmbeddings[0].count
        return try imageEmbeddings.map { v in
            guard v.count == e else {
                throw EvaluationError.invalidArgument(field: "imageEmbeddings", message: "width \(v.count) != text width \(e)")
            }
            let u = ZeroShotClassifier.normalized(v)
            var best = 0
            var bestScore = -Float.infinity
            for (k, c) in classEmbeddings.enumerated() {
                var s: Float = 0
                for j in 0..<e { s += u[j] * c[j] }
                if s > bestScore { bestScore = s; best = k }
            }
            return best
        }
    }

    /// Top-1 accuracy on `dataset` items `indices` using `imageEmbed` (batched).
    public func accuracy(on dataset: any ImageDataset, indices: [Int], batchSize: Int = 32,
                         imageEmbed: ([ImageBuffer]) throws -> [[Float]]) throws -> Double {
        guard !indices.isEmpty else { throw EvaluationError.invalidArgument(field: "indices", message: "must not be empty") }
        var correct = 0
        var start = 0
        while start < indices.count {
            let batch = Array(indices[start..<min(indices.count, start + batchSize)])
            let preds = try predict(try imageEmbed(try dataset.images(at: batch)))
            for (i, p) in preds.enumerated() where p == dataset.label(at: batch[i]) { correct += 1 }
            start += batchSize
        }
        return Double(correct) / Double(indices.count)
    }

    static func normalized(_ v: [Float]) -> [Float] {
        let n = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        return v.map { $0 / n }
    }
}
