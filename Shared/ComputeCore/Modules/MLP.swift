import Glibc

/// Two-layer MLP: fc2(act(fc1(x))). Names `fc1`, `fc2`.
public final class MLP: Module {
    public let fc1: Linear, fc2: Linear
    public let activation: Activation
    public init(_ dim: Int, hidden: Int, out: Int? = nil, activation: Activation = .gelu, rng: inout RNG) {
        fc1 = Linear(dim, hidden, rng: &rng)
        fc2 = Linear(hidden, out ?? dim, rng: &rng)
        self.activation = activation
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { fc2(activation.apply(fc1(x))) }
    public func namedParameters() -> [(String, Tensor)] { collectParameters([], [("fc1", fc1), ("fc2", fc2)]) }
}
