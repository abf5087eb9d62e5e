/// Normalisation layer choice for transformer blocks.
public enum NormKind: Sendable { case layerNorm, rmsNorm }

/// LayerNorm or RMSNorm behind one type (names `weight`, and `bias` for LayerNorm).
public final class Norm: Module {
    public let kind: NormKind
    public let weight: Tensor?, bias: Tensor?
    public let eps: Float
    public init(_ dim: Int, kind: NormKind = .layerNorm, eps: Float? = nil, affine: Bool = true) {
        self.kind = kind
        self.eps = eps ?? (kind == .layerNorm ? 1e-5 : 1e-6)
        weight = affine ? Tensor.ones([dim]).requiringGrad() : nil
        bias = affine && kind == .layerNorm ? Tensor.zeros([dim]).requiringGrad() : nil
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        kind == .layerNorm ? Tensor.layerNorm(x, weight: weight, bias: bias, eps: eps)
                           : Tensor.rmsNorm(x, weight: weight, eps: eps)
    }
    public func namedParameters() -> [(String, Tensor)] { collectParameters([("weight", weight), ("bias", bias)], []) }
}
