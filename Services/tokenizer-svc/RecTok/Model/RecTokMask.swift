import ComputeCore

/// MAE-style random masking of the token grid (METHODS.md §2; He et al. 2022): one mask ratio per
/// batch, r = max(0, U(min, max)), and for every image its own random set of ceil(T·(1 - r))
/// visible tokens. Visible and masked positions are kept in ascending grid order.
public struct RecTokMask: Sendable, Equatable {
    /// Grid tokens per image T.
    public let tokens: Int
    /// Visible grid positions per image, ascending (same count V for every image).
    public let visible: [[Int]]
    /// Masked grid positions per image, ascending (T - V each).
    public let masked: [[Int]]

    /// A mask from explicit visible positions (each row ascending or not; stored ascending).
    public init(tokens: Int, visible: [[Int]]) {
        precondition(!visible.isEmpty, "RecTokMask: empty batch")
        let v = visible.map { $0.sorted() }
        precondition(v.allSatisfy { $0.count == v[0].count && $0.count >= 1 }, "RecTokMask: every image needs the same V >= 1")
        precondition(v.allSatisfy { Set($0).count == $0.count && $0.allSatisfy { (0..<tokens).contains($0) } },
                     "RecTokMask: positions must be distinct and in 0..<\(tokens)")
        self.tokens = tokens
        self.visible = v
        masked = v.map { row in let s = Set(row); return (0..<tokens).filter { !s.contains($0) } }
    }

    /// Nothing masked (inference, decoder fine-tune).
    public static func none(batch: Int, tokens: Int) -> RecTokMask {
        RecTokMask(tokens: tokens, visible: Array(repeating: Array(0..<tokens), count: batch))
    }

    /// The batch's mask ratio from a uniform draw u in [0, 1): max(0, lo + (hi - lo)·u).
    public static func ratio(u: Float, min lo: Float, max hi: Float) -> Float { Swift.max(0, lo + (hi - lo) * u) }

    /// Visible tokens per image at ratio r: ceil(T·(1 - r)), at least 1.
    public static func visibleCount(tokens: Int, ratio r: Float) -> Int {
        Swift.max(1, Swift.min(tokens, Int((Float(tokens) * (1 - r)).rounded(.up))))
    }

    /// A random mask: per image a uniformly random subset of `visibleCount(tokens, ratio)` positions.
    public static func random(batch: Int, tokens: Int, ratio: Float, rng: inout RNG) -> RecTokMask {
        let keep = visibleCount(tokens: tokens, ratio: ratio)
        return RecTokMask(tokens: tokens, visible: (0..<batch).map { _ in Array(rng.permutation(tokens).prefix(keep)) })
    }

    public var batch: Int { visible.count }
    /// Visible tokens per image V.
    public var visibleCount: Int { visible[0].count }
    /// Fraction of tokens masked.
    public var ratio: Float { Float(tokens - visibleCount) / Float(tokens) }

    /// Rows of a flattened [B·T, ·] tensor at the visible positions, image by image.
    var visibleRows: [Int] { visible.enumerated().flatMap { b, row in row.map { b * tokens + $0 } } }

    /// Visible tokens of a full grid: x [B, T, C] -> [B, V, C].
    public func gatherVisible(_ x: Tensor) -> Tensor {
        let (B, C) = (x.shape[0], x.shape[2])
        precondition(x.rank == 3 && x.shape[1] == tokens && B == batch, "gatherVisible: x \(x.shape) vs mask \(batch)x\(tokens)")
        if visibleCount == tokens { return x }
        return x.reshaped([B * tokens, C]).indexSelect(axis: 0, visibleRows).reshaped([B, visibleCount, C])
    }

    /// The full grid from visible tokens, `token` at every masked position:
    /// x [B, V, C], token [C] -> [B, T, C] (differentiable in both).
    public func fill(_ x: Tensor, token: Tensor) -> Tensor {
        let (B, V, C) = (x.shape[0], x.shape[1], x.shape[2])
        precondition(B == batch && V == visibleCount && token.count == C, "fill: x \(x.shape), token \(token.shape) vs mask \(batch)x\(V)")
        if V == tokens { return x }
        let M = tokens - V
        // Rows of [x; tokens] (visible rows first, then B·M mask-token rows) in grid order.
        var source = [Int](repeating: 0, count: B * tokens)
        for b in 0..<B {
            for (k, p) in visible[b].enumerated() { source[b * tokens + p] = b * V + k }
            for (k, p) in masked[b].enumerated() { source[b * tokens + p] = B * V + b * M + k }
        }
        let fills = token.reshaped([1, C]).expand([B * M, C])
        return Tensor.concat([x.reshaped([B * V, C]), fills], axis: 0).indexSelect(axis: 0, source).reshaped([B, tokens, C])
    }

    /// 2-D RoPE for a CLS token followed by each image's visible tokens at their grid positions.
    public func rope(grid: Int, headDim: Int) -> RoPE {
        var rows: [Int?] = [], cols: [Int?] = []
        for row in visible {
            rows.append(nil); cols.append(nil)
            for p in row { rows.append(p / grid); cols.append(p % grid) }
        }
        return RoPE(rows: rows, cols: cols, batch: batch, headDim: headDim)
    }
}
