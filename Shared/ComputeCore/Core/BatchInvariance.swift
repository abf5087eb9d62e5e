/// Batch-invariant matrix products (serving): inside `withBatchInvariance`, `Tensor.linear` and
/// `matmul` against a 2-D right-hand side run on `FixedOrderGEMM`, whose every output element is
/// one FMA chain over k in a fixed order whatever the number of rows. A sample's outputs are then
/// bit-identical whatever batch it is computed in, while the batch still runs as one GEMM (the
/// weights packed once). Plain sgemm cannot promise this: its kernels and blocking depend on M and
/// N, and with them a row's last bits. Batched products of per-sample operands (attention) run
/// one GEMM per sample anyway, with shapes that do not depend on the batch.
/// Per task (and per thread outside tasks), like `GradMode`.
public enum BatchInvariance {
    @TaskLocal static var enabled = false
    /// True inside `withBatchInvariance` in the current task / thread.
    public static var isEnabled: Bool { enabled }
}

/// Runs `body` with batch-invariant matrix products (`BatchInvariance`) in the current task / thread.
@discardableResult
public func withBatchInvariance<R>(_ body: () throws -> R) rethrows -> R {
    try BatchInvariance.$enabled.withValue(true, operation: body)
}
