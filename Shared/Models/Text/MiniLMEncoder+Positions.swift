import Foundation

extension MiniLMEncoder {
    /// The output of MiniLM's first LayerNorm (the embedding LayerNorm) for input-embedding rows
    /// placed at given positions: LN(row_i + position[p_i] + type_0), exactly as the forward pass
    /// computes it before the first attention layer. DTI's positional probe (METHODS.md §4) reads
    /// how much of the position survives this normalisation as a token's norm grows.
    /// rows [N, 384], positions [N] (each in 0..<512) -> [N, 384]
    public func firstLayerNormOutput(rows: [Float], positions: [Int]) -> [Float] {
        let D = MiniLMEncoder.width
        precondition(rows.count == positions.count * D, "rows must be [\(positions.count), \(D)]")
        precondition(positions.allSatisfy { $0 >= 0 && $0 < MiniLMEncoder.maxPositions }, "positions must lie in 0..<512")
        var e = rows
        for (i, p) in positions.enumerated() {
            for d in 0..<D { e[i * D + d] += positionEmbeddings[p * D + d] + tokenTypeEmbedding[d] }
        }
        let (xhat, _) = MiniLMEncoder.normalize(e, rows: positions.count, n: D)
        return MiniLMEncoder.affine(xhat, rows: positions.count, n: D, gamma: embLNg, beta: embLNb)
    }
}
