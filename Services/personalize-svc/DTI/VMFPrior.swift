import Foundation

/// The von Mises–Fisher prior on the token direction (METHODS.md §4): p(v) ∝ exp(κ·μ·v) on the unit
/// sphere, μ the class word's unit direction. As a loss term: -log p(v) = -κ·μ·v + const.
public struct VMFPrior: Sendable, Equatable {
    /// Mean direction (unit). [D]
    public let mean: [Float]
    public let kappa: Float

    public init(mean: [Float], kappa: Float) {
        self.mean = ConceptBlend.normalized(mean); self.kappa = kappa
    }

    /// -κ·μ·v (the constant dropped). v [D]
    public func negativeLogDensity(_ v: [Float]) -> Float {
        -kappa * zip(mean, v).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// ∂(-log p)/∂v = -κ·μ (what the Riemannian step adds to the data gradient). [D]
    public var gradient: [Float] { mean.map { -kappa * $0 } }
}
