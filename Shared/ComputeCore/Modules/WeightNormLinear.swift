import Glibc

/// Weight-normalised linear (no bias): W = g * v / ||v||_row. Names `weight_g` [out, 1],
/// `weight_v` [out, in]. Set `g.requiresGrad = false` to fix the norm (DINO's last layer).
public final class WeightNormLinear: Module {
    public let g: Tensor, v: Tensor
    public init(_ inFeatures: Int, _ outFeatures: Int, rng: inout RNG) {
        let k = 1 / Float(inFeatures).squareRoot()
        v = rng.uniform([outFeatures, inFeatures], -k, k).requiringGrad()
        g = Tensor.ones([outFeatures, 1]).requiringGrad()
    }
    /// The effective weight [out, in].
    public var weight: Tensor { v.l2Normalized() * g }
    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.linear(x, weight, nil) }
    public func namedParameters() -> [(String, Tensor)] { [("weight_g", g), ("weight_v", v)] }
}
