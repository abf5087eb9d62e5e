import Glibc

/// Pointwise activations used by MLPs.
public enum Activation: String, Sendable {
    case gelu, geluTanh, silu, relu, tanh
    public func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .gelu: return x.gelu()
        case .geluTanh: return x.geluTanh()
        case .silu: return x.silu()
        case .relu: return x.relu()
        case .tanh: return x.tanh()
        }
    }
}
