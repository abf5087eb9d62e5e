import Glibc

/// RMSNorm over the last axis with a learned scale.
public final class RMSNorm: Module {
    public let weight: Tensor
    public let eps: Float
    public init(_ dim: Int, eps: Float = 1e-6) { self.eps = eps; weight = Tensor.ones([dim]).requiringGrad() }
    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.rmsNorm(x, weight: weight, eps: eps) }
    public func namedParameters() -> [(String, Tensor)] { [("weight", weight)] }
}
