import ComputeCore
import VTP

extension ViTEncoder {
    /// MAE-style encoding (METHODS.md §2): only the visible patches enter the trunk, each with the
    /// 2-D RoPE of its own grid position; the CLS token comes first and is dropped at the end.
    /// patches [B, T, 3·p²] (the full grid; masked patches are never read) -> [B, V, D] final-normed.
    public func visibleTokens(_ patches: Tensor, grid: Int, mask: RecTokMask) -> Tensor {
        let B = patches.shape[0]
        precondition(patches.shape[1] == grid * grid && mask.tokens == grid * grid && mask.batch == B,
                     "visibleTokens: patches \(patches.shape), mask \(mask.batch)x\(mask.tokens), grid \(grid)")
        let visible = mask.gatherVisible(patches)                                  // [B, V, 3·p²]
        var x = patchEmbed(visible)                                                 // [B, V, D]
        x = Tensor.concat([clsToken.expand([B, 1, width]), x], axis: 1)             // [B, 1 + V, D]
        let rope = mask.rope(grid: grid, headDim: width / heads)
        for b in blocks.items { x = b(x, rope: rope) }
        return norm(x).slice(axis: 1, 1, mask.visibleCount + 1)                     // [B, V, D]
    }
}
