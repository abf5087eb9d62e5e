import ComputeCore

/// Batch-independent model evaluation for samplers: a batched function is run on fixed-size chunks
/// of `chunk` rows (the last chunk padded by repeating its final row), so every forward has the
/// same shapes whatever the batch. With `chunk` = 1 a sample also always sits at the same position
/// of its forward, so its result is bit-identical however many other samples came with it; larger
/// chunks are faster but the kernels' vector/tail split can move a sample's last bits with its
/// position (measured: ~1e-7 relative). Used by `FlowSampler` and the distilled students' sampler.
public enum PerSampleForward {
    /// Assembles out [B, ...] (the shape of `shape`) from `body(indices)`, which returns the rows of
    /// `indices` ([chunk, ...]). Runs without a tape.
    public static func map(shape: [Int], chunk: Int, _ body: ([Int]) -> Tensor) -> Tensor {
        let B = shape[0], K = chunk
        let out = Tensor(uninitialized: shape)
        let rowsPer = out.count / max(B, 1)
        withNoGrad { withBatchInvariance {
            var start = 0
            while start < B {
                let idx = (0..<K).map { min(start + $0, B - 1) }
                let v = body(idx)
                let n = min(K, B - start)
                (out.ptr + start * rowsPer).update(from: v.ptr, count: n * rowsPer)
                start += K
            }
        } }
        return out
    }
}
