import CBLAS
import Dispatch
import Glibc

/// Which query/key pairs may attend. Combine freely: causal, key padding and an additive bias.
public struct AttentionMask {
    /// Query i attends keys j <= i + (Tk - Tq) (physical order; works with a KV cache).
    public var causal: Bool
    /// [B, Tk]: 1 = real key, 0 = padding (never attended).
    public var keyPadding: Tensor?
    /// Additive scores bias, [Tq, Tk], [B, Tq, Tk] or [B, H, Tq, Tk]; use -inf to forbid.
    public var additive: Tensor?
    public init(causal: Bool = false, keyPadding: Tensor? = nil, additive: Tensor? = nil) {
        self.causal = causal; self.keyPadding = keyPadding; self.additive = additive
    }
    public static let none = AttentionMask()
    public static let causal = AttentionMask(causal: true)
}
