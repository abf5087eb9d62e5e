/// Feed-forward choice for transformer blocks.
public enum FFNKind: Sendable { case gelu, swiglu }

/// GELU MLP or SwiGLU behind one type.
public final class FeedForward: Module {
    public let mlp: MLP?, swiglu: SwiGLU?
    public init(_ dim: Int, hidden: Int, kind: FFNKind = .gelu, rng: inout RNG) {
        if kind == .gelu { mlp = MLP(dim, hidden: hidden, rng: &rng); swiglu = nil }
        else { swiglu = SwiGLU(dim, hidden: hidden, rng: &rng); mlp = nil }
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { mlp.map { $0(x) } ?? swiglu!(x) }
    public func namedParameters() -> [(String, Tensor)] { mlp?.namedParameters() ?? swiglu!.namedParameters() }
}
