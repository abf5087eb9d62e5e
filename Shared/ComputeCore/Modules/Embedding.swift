import Glibc

/// Lookup table; weight [num, dim], init N(0, std^2).
public final class Embedding: Module {
    public let weight: Tensor
    public init(_ num: Int, _ dim: Int, std: Float = 0.02, rng: inout RNG) {
        weight = rng.normal([num, dim], std: std).requiringGrad()
    }
    /// ids (shape `idShape`) -> [idShape..., dim]
    public func callAsFunction(_ ids: [Int], shape: [Int]? = nil) -> Tensor {
        Tensor.gather(weight, ids: ids, shape: shape)
    }
    public func namedParameters() -> [(String, Tensor)] { [("weight", weight)] }
}
