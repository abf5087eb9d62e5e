import ComputeCore

/// Pre-norm ViT trunk with a CLS token and 2-D RoPE (METHODS.md §1, "Encoder"): RMSNorm,
/// SwiGLU, patch embedding `Linear(3·p² -> D)`, a learnable mask token for iBOT.
/// Names: `patch_embed`, `cls_token`, `mask_token`, `blocks.N`, `norm`.
public final class ViTEncoder: Module {
    public let patchEmbed: Linear
    public let clsToken: Tensor      // [1, 1, D]
    public let maskToken: Tensor     // [D]
    public let blocks: ModuleList<ViTBlock>
    public let norm: Norm
    public let width: Int, heads: Int
    private var ropes: [Int: RoPE] = [:]

    public init(_ c: VTPModelConfig, rng: inout RNG) {
        width = c.width; heads = c.heads
        patchEmbed = Linear(c.patchDim, c.width, rng: &rng)
        clsToken = rng.normal([1, 1, c.width], std: 0.02).requiringGrad()
        maskToken = Tensor.zeros([c.width]).requiringGrad()
        blocks = ModuleList((0..<c.encoderDepth).map { _ in
            ViTBlock(c.width, heads: c.heads, mlpRatio: c.mlpRatio, norm: .rmsNorm, ffn: .swiglu, qkvBias: false, rng: &rng)
        })
        norm = Norm(c.width, kind: .rmsNorm)
    }

    /// RoPE tables for a side x side grid after one CLS token (cached per grid).
    func rope(grid: Int) -> RoPE {
        if let r = ropes[grid] { return r }
        let r = RoPE.grid2D(rows: grid, cols: grid, headDim: width / heads, prefix: 1)
        ropes[grid] = r
        return r
    }

    /// Encodes patches [B, T, 3·p²] (T = grid²) to final-normed tokens [B, 1 + T, D] (CLS first).
    /// `mask` (B*T entries, 1 = masked) replaces those patch embeddings with the mask token (iBOT).
    public func callAsFunction(_ patches: Tensor, grid: Int, mask: [Float]? = nil) -> Tensor {
        let B = patches.shape[0], T = patches.shape[1]
        precondition(T == grid * grid, "ViTEncoder: \(T) patches for a \(grid)x\(grid) grid")
        var x = patchEmbed(patches)                                  // [B, T, D]
        if let mask {
            let m = Tensor(mask, shape: [B, T, 1])
            x = x * (1 - m) + maskToken * m
        }
        x = Tensor.concat([clsToken.expand([B, 1, width]), x], axis: 1)
        let r = rope(grid: grid)
        for b in blocks.items { x = b(x, rope: r) }
        return norm(x)
    }

    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([("cls_token", clsToken), ("mask_token", maskToken)],
                          [("patch_embed", patchEmbed), ("blocks", blocks), ("norm", norm)])
    }
}
