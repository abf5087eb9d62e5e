import Foundation

/// Weights packed once for the fixed-order kernel (`FixedOrderGEMM`) and reused by every
/// `Tensor.linear` of a scope in which the weights do not change — a sampler's lifetime: 28
/// steps x 2 (guidance) forwards share one packing of each weight instead of packing it per call
/// (packing costs as much as the product itself for a single request's 128 rows).
///
/// Keyed by the weight tensor's identity; the cache holds the tensor, so its storage cannot be
/// freed and reused by another tensor while it is cached. Contract: nothing writes to a cached
/// weight while the cache is installed (sampling runs without a tape or an optimizer; a model
/// being trained gets a new cache per preview). Bits are unaffected: packing is a copy.
public final class PackedWeightCache: @unchecked Sendable {
    @TaskLocal static var current: PackedWeightCache?

    private let lock = NSLock()
    private var entries: [ObjectIdentifier: (weight: Tensor, packed: PackedOperand)] = [:]

    public init() {}

    /// Weights packed so far.
    public var count: Int { lock.withLock { entries.count } }

    /// W [n, k] packed (cached after the first call).
    func packed(_ w: Tensor) -> PackedOperand {
        let id = ObjectIdentifier(w)
        if let hit = lock.withLock({ entries[id] }), hit.weight === w { return hit.packed }
        let p = PackedOperand(weight: w)
        lock.withLock { entries[id] = (w, p) }
        return p
    }
}

/// Runs `body` with `cache` installed for `Tensor.linear` under `withBatchInvariance` (see
/// `PackedWeightCache` for the contract).
@discardableResult
public func withPackedWeights<R>(_ cache: PackedWeightCache, _ body: () throws -> R) rethrows -> R {
    try PackedWeightCache.$current.withValue(cache, operation: body)
}
