import ComputeCore

/// Batch-invariant model evaluation for samplers: a batched function runs on consecutive chunks of
/// at most `chunk` samples, without a tape and inside `withBatchInvariance`, so every matrix
/// product is the fixed-order one (`FixedOrderGEMM`) and the other kernels work per row, per
/// element or per sample. A sample's result is then bit-identical whatever other samples share
/// its forward, its position in it, or the chunking — so requests can be batched and still give
/// the PNG bytes they give alone (tested in `FlowSamplerTests`). `chunk` only bounds memory and
/// sets how much work one forward shares. With a `PackedWeightCache` (a sampler keeps one for its
/// lifetime) every weight is packed for the kernel once, not once per forward.
/// Used by `FlowSampler` and the distilled students' sampler.
public enum BatchInvariantForward {
    /// Samples per forward unless a sampler is told otherwise: a full serving batch of 16 images.
    public static let defaultChunk = 16

    /// Assembles out [B, ...] (the shape of `shape`) from `body(indices)`, which returns the rows of
    /// `indices` ([indices.count, ...]); `indices` are consecutive runs of at most `chunk` samples.
    public static func map(shape: [Int], chunk: Int, weights: PackedWeightCache? = nil, _ body: ([Int]) -> Tensor) -> Tensor {
        precondition(chunk >= 1, "BatchInvariantForward.map: chunk must be >= 1, got \(chunk)")
        let B = shape[0]
        let out = Tensor(uninitialized: shape)
        let rowsPer = out.count / max(B, 1)
        func run() {
            var start = 0
            while start < B {
                let idx = Array(start..<min(start + chunk, B))
                let v = body(idx)
                precondition(v.count == idx.count * rowsPer, "BatchInvariantForward.map: body returned \(v.shape) for \(idx.count) samples")
                (out.ptr + start * rowsPer).update(from: v.ptr, count: v.count)
                start += idx.count
            }
        }
        withNoGrad { withBatchInvariance {
            if let weights { withPackedWeights(weights, run) } else { run() }
        } }
        return out
    }
}
