import ComputeCore

/// Frozen per-token text features of one prompt (MiniLM token outputs, CLS..SEP). [length, dim]
public struct TextFeatures: Sendable, Equatable {
    public var values: [Float]
    public var length: Int
    public var dim: Int
    public init(values: [Float], length: Int, dim: Int) {
        precondition(values.count == length * dim, "text features: \(values.count) != \(length)x\(dim)")
        self.values = values; self.length = length; self.dim = dim
    }
}

/// A batch of prompts as cross-attention context: features padded (or truncated) to exactly
/// `tokens` rows, with a key-padding mask. context [B, tokens, dim], padding [B, tokens] (1 = real)
public struct TextContext {
    public let context: Tensor
    public let padding: Tensor
    public var batch: Int { context.shape[0] }

    public init(context: Tensor, padding: Tensor) { self.context = context; self.padding = padding }

    /// Packs prompts to a fixed length so a sample's context does not depend on its batch.
    public init(_ prompts: [TextFeatures], tokens: Int, dim: Int) {
        let B = prompts.count
        let ctx = Tensor(zeros: [B, tokens, dim]), pad = Tensor(zeros: [B, tokens])
        for (b, p) in prompts.enumerated() {
            precondition(p.dim == dim, "text feature width \(p.dim) != \(dim)")
            let n = min(p.length, tokens)
            p.values.withUnsafeBufferPointer { src in
                (ctx.ptr + b * tokens * dim).update(from: src.baseAddress!, count: n * dim)
            }
            for i in 0..<n { pad.ptr[b * tokens + i] = 1 }
        }
        context = ctx; padding = pad
    }

    /// Rows `indices` of this batch (copies).
    public func rows(_ indices: [Int]) -> TextContext {
        TextContext(context: context.indexSelect(axis: 0, indices), padding: padding.indexSelect(axis: 0, indices))
    }

    /// Two batches stacked (conditional then unconditional rows for guidance).
    public static func concat(_ a: TextContext, _ b: TextContext) -> TextContext {
        TextContext(context: Tensor.concat([a.context, b.context], axis: 0),
                    padding: Tensor.concat([a.padding, b.padding], axis: 0))
    }
}
