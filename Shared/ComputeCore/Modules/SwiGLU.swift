import Glibc

/// SwiGLU feed-forward: w2(silu(w1 x) * w3 x). Names `w1` (gate), `w2` (down), `w3` (up).
public final class SwiGLU: Module {
    public let w1: Linear, w2: Linear, w3: Linear
    public init(_ dim: Int, hidden: Int, bias: Bool = false, rng: inout RNG) {
        w1 = Linear(dim, hidden, bias: bias, rng: &rng)
        w2 = Linear(hidden, dim, bias: bias, rng: &rng)
        w3 = Linear(dim, hidden, bias: bias, rng: &rng)
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { w2(w1(x).silu() * w3(x)) }
    public func namedParameters() -> [(String, Tensor)] { collectParameters([], [("w1", w1), ("w2", w2), ("w3", w3)]) }
}
