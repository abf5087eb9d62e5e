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

/// RMSNorm over the last axis with a learned scale.
public final class RMSNorm: Module {
    public let weight: Tensor
    public let eps: Float
    public init(_ dim: Int, eps: Float = 1e-6) { self.eps = eps; weight = Tensor.ones([dim]).requiringGrad() }
    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.rmsNorm(x, weight: weight, eps: eps) }
    public func namedParameters() -> [(String, Tensor)] { [("weight", weight)] }
}

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
