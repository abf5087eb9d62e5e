import Glibc

/// A first-order optimiser over a fixed list of parameters.
public protocol Optimizer: AnyObject {
    var lr: Float { get set }
    /// Applies one update from the parameters' current `grad` (parameters without grad are skipped).
    func step()
}

extension Optimizer {
    /// Clears the gradients of `params`.
    public static func zeroGrad(_ params: [Tensor]) { for p in params { p.zeroGrad() } }
}
