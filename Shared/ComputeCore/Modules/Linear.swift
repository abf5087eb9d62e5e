import Glibc

/// Fully connected layer y = x W^T + b; weight [out, in], bias [out] (PyTorch layout).
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?
    /// Init: U(-1/sqrt(in), 1/sqrt(in)) like PyTorch's default.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout RNG) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear: features must be > 0 (\(inFeatures), \(outFeatures))")
        let k = 1 / Float(inFeatures).squareRoot()
        weight = rng.uniform([outFeatures, inFeatures], -k, k).requiringGrad()
        self.bias = bias ? rng.uniform([outFeatures], -k, k).requiringGrad() : nil
    }
    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }
    /// x [..., in] -> [..., out]
    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.linear(x, weight, bias) }
    public func namedParameters() -> [(String, Tensor)] { collectParameters([("weight", weight), ("bias", bias)], []) }
}
