import Glibc

/// Gradient utilities.
public enum Gradients {
    /// Global L2 norm of the gradients of `params`.
    public static func norm(_ params: [Tensor]) -> Float {
        var s: Double = 0
        for p in params { if let g = p.grad { for j in 0..<g.count { s += Double(g.ptr[j]) * Double(g.ptr[j]) } } }
        return Float(s.squareRoot())
    }
    /// Scales gradients so their global norm is at most `maxNorm`; returns the norm before clipping.
    @discardableResult
    public static func clipNorm(_ params: [Tensor], maxNorm: Float) -> Float {
        let n = norm(params)
        if n > maxNorm { scale(params, by: maxNorm / (n + 1e-6)) }
        return n
    }
    /// Multiplies every gradient by `s` (e.g. 1/k after accumulating k micro-batches).
    public static func scale(_ params: [Tensor], by s: Float) {
        for p in params {
            guard let g = p.grad else { continue }
            let owned = g.copy()
            Kernels.scale(owned.ptr, s, owned.ptr, owned.count)
            p.grad = owned
            p.gradOwned = true
        }
    }
}
