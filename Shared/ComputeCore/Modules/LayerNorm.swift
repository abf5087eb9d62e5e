import Glibc

/// LayerNorm over the last axis with optional affine weight/bias.
public final class LayerNorm: Module {
    public let weight: Tensor?, bias: Tensor?
    public let eps: Float
    public init(_ dim: Int, eps: Float = 1e-5, affine: Bool = true) {
        self.eps = eps
        weight = affine ? Tensor.ones([dim]).requiringGrad() : nil
        bias = affine ? Tensor.zeros([dim]).requiringGrad() : nil
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.layerNorm(x, weight: weight, bias: bias, eps: eps) }
    public func namedParameters() -> [(String, Tensor)] { collectParameters([("weight", weight), ("bias", bias)], []) }
}
