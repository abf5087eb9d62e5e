import ComputeCore

/// Pixel decoder, the only path through the bottleneck (METHODS.md §1): 1x1 `Linear(d -> D)`,
/// ViT blocks with 2-D RoPE, final norm, 1x1 `Linear(D -> 3·p²)`; pixel shuffle happens in
/// `Patchify.images` (a fixed permutation, so losses are taken on patches).
/// Names: `proj_in`, `blocks.N`, `norm`, `proj_out`.
public final class PixelDecoder: Module {
    public let projIn: Linear, projOut: Linear
    public let blocks: ModuleList<ViTBlock>
    public let norm: Norm
    let rope: RoPE

    public init(_ c: VTPModelConfig, rng: inout RNG) {
        projIn = Linear(c.latentChannels, c.decoderWidth, rng: &rng)
        blocks = ModuleList((0..<c.decoderDepth).map { _ in
            ViTBlock(c.decoderWidth, heads: c.heads, mlpRatio: c.mlpRatio, norm: .rmsNorm, ffn: .swiglu, qkvBias: false, rng: &rng)
        })
        norm = Norm(c.decoderWidth, kind: .rmsNorm)
        projOut = Linear(c.decoderWidth, c.patchDim, rng: &rng)
        rope = RoPE.grid2D(rows: c.grid, cols: c.grid, headDim: c.decoderWidth / c.heads)
    }

    /// latents [B, T, d] -> patches [B, T, 3·p²] (pixel values, target range [0, 1]).
    public func callAsFunction(_ z: Tensor) -> Tensor {
        var x = projIn(z)
        for b in blocks.items { x = b(x, rope: rope) }
        return projOut(norm(x))
    }

    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([], [("proj_in", projIn), ("blocks", blocks), ("norm", norm), ("proj_out", projOut)])
    }
}
