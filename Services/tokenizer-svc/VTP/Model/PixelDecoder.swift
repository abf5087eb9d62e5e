import ComputeCore

/// Pixel decoder, the only path through the bottleneck (METHODS.md §1): 1x1 `Linear(d -> D)`,
/// ViT blocks with 2-D RoPE, final norm, 1x1 `Linear(D -> 3·p²)`; pixel shuffle happens in
/// `Patchify.images` (a fixed permutation, so losses are taken on patches).
/// The same shape with another output width serves as a small transformer head on a latent grid
/// (RecTok's semantic head, METHODS.md §2). `embed` and `readout` split the forward so a caller
/// can insert mask tokens at width D between them (RecTok's masked decoding).
/// Names: `proj_in`, `blocks.N`, `norm`, `proj_out`.
public final class PixelDecoder: Module {
    public let projIn: Linear, projOut: Linear
    public let blocks: ModuleList<ViTBlock>
    public let norm: Norm
    /// Width D of the blocks.
    public let width: Int
    let rope: RoPE

    /// The tokenizer's pixel decoder: d -> decoderWidth -> 3·p².
    public convenience init(_ c: VTPModelConfig, rng: inout RNG) {
        self.init(inputs: c.latentChannels, width: c.decoderWidth, depth: c.decoderDepth, heads: c.heads,
                  mlpRatio: c.mlpRatio, grid: c.grid, outputs: c.patchDim, rng: &rng)
    }

    /// A ViT on a grid x grid token grid: `inputs` -> `width` (depth blocks) -> `outputs` per token.
    public init(inputs: Int, width: Int, depth: Int, heads: Int, mlpRatio: Float, grid: Int, outputs: Int, rng: inout RNG) {
        self.width = width
        projIn = Linear(inputs, width, rng: &rng)
        blocks = ModuleList((0..<depth).map { _ in
            ViTBlock(width, heads: heads, mlpRatio: mlpRatio, norm: .rmsNorm, ffn: .swiglu, qkvBias: false, rng: &rng)
        })
        norm = Norm(width, kind: .rmsNorm)
        projOut = Linear(width, outputs, rng: &rng)
        rope = RoPE.grid2D(rows: grid, cols: grid, headDim: width / heads)
    }

    /// latents [B, T, d] -> patches [B, T, 3·p²] (pixel values, target range [0, 1]).
    public func callAsFunction(_ z: Tensor) -> Tensor { readout(embed(z)) }

    /// The input projection: latents [B, N, d] -> [B, N, D] (N may be a subset of the grid).
    public func embed(_ z: Tensor) -> Tensor { projIn(z) }

    /// Blocks, final norm and output projection on the full grid: [B, T, D] -> [B, T, outputs].
    public func readout(_ x: Tensor) -> Tensor {
        var x = x
        for b in blocks.items { x = b(x, rope: rope) }
        return projOut(norm(x))
    }

    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([], [("proj_in", projIn), ("blocks", blocks), ("norm", norm), ("proj_out", projOut)])
    }
}
