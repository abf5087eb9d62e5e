// Shape ops: reshape (view), transpose/permute (copy), concat/split/slice, gather/scatter.

extension Tensor {
    /// Same storage, new shape (one extent may be -1).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "reshape: \(shape) to \(newShape)")
            s[i] = count / known
        }
        precondition(Tensor.product(s) == count, "reshape: \(shape) (\(count) elements) to \(newShape)")
        if s == shape && node == nil && tangent == nil && !requiresGrad { return self }
        let out = Tensor(shape: s, storage: storage, offset: offset)
        let inShape = shape
        return Tensor.record(out, [self], backward: { [self] g in self.accumulateGrad(g.reshaped(inShape)) },
                             tangent: { t in t[0]!.reshaped(s) }, op: "reshape")
    }

    /// Axis permutation (materialised copy). `perm[i]` = input axis placed at output axis i.
    public func permuted(_ perm: [Int]) -> Tensor {
        precondition(perm.sorted() == Array(0..<rank), "permute: \(perm) is not a permutation of rank \(rank)")
        let outShape = perm.map { shape[$0] }
        let out = Tensor(uninitialized: outShape)
        Tensor.permuteCopy(ptr, shape, perm, out.ptr)
        var inv = [Int](repeating: 0, count: rank)
        for (i, p) in perm.enumerated() { inv[p] = i }
        return Tensor.record(out, [self], backward: { [self] g in self.accumulateGrad(g.permuted(inv)) },
                             tangent: { t in t[0]!.permuted(perm) }, op: "permute")
    }

    /// Swaps two axes (copy).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var p = Array(0..<rank)
        p.swapAt(normAxis(a), normAxis(b))
        return permuted(p)
    }

    static func permuteCopy(_ src: UnsafeMutablePointer<Float>, _ shape: [Int], _ perm: [Int],
                            _ dst: UnsafeMutablePointer<Float>) {
        let r = shape.count
        var inStrides = [Int](repeating: 1, count: r)
        for i in stride(from: r - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let outShape = perm.map { shape[$0] }
        let st = perm.map { inStrides[$0] }
        let total = shape.reduce(1, *)
        if total == 0 { return }
        let inner = outShape.last ?? 1, innerStride = st.last ?? 1
        let rows = total / Swift.max(inner, 1)
        parallelRange(rows, cost: inner) { s, e in
            for row in s..<e {
                var rem = row, off = 0
                var d = r - 2
                while d >= 0 { let i = rem % outShape[d]; rem /= outShape[d]; off += i * st[d]; d -= 1 }
                let o = dst + row * inner, p = src + off
                if innerStride == 1 { o.update(from: p, count: inner) }
                else { for j in 0..<inner { o[j] = p[j * innerStride] } }
            }
        }
    }

    /// Elements [start, end) along `axis` (a view when axis is the leading non-unit axis).
    public func slice(axis: Int, _ start: Int, _ end: Int) -> Tensor {
        let a = normAxis(axis)
        precondition(start >= 0 && end <= shape[a] && start <= end,
                     "slice: [\(start), \(end)) out of range 0...\(shape[a]) on axis \(a) of \(shape)")
        let (outer, n, inner) = split3(a)
        var os = shape; os[a] = end - start
        let out: Tensor
        if outer == 1 {
            out = Tensor(shape: os, storage: storage, offset: offset + start * inner)
        } else {
            out = Tensor(uninitialized: os)
            let len = (end - start) * inner
            for b in 0..<outer { (out.ptr + b * len).update(from: ptr + (b * n + start) * inner, count: len) }
        }
        let inShape = shape
        return Tensor.record(out, [self], backward: { [self] g in
            let d = Tensor(zeros: inShape)
            let len = (end - start) * inner
            for b in 0..<outer { (d.ptr + (b * n + start) * inner).update(from: g.ptr + b * len, count: len) }
            self.accumulateGrad(d)
        }, tangent: { t in t[0]!.slice(axis: a, start, end) }, op: "slice")
    }

    /// Splits along `axis` into pieces of the given sizes.
    public func split(axis: Int, sizes: [Int]) -> [Tensor] {
        precondition(sizes.reduce(0, +) == size(axis), "split: sizes \(sizes) do not sum to \(size(axis))")
        var s = 0
        return sizes.map { n in defer { s += n }; return slice(axis: axis, s, s + n) }
    }

    /// Concatenates along `axis`.
    public static func concat(_ xs: [Tensor], axis: Int) -> Tensor {
        precondition(!xs.isEmpty, "concat of zero tensors")
        let a = xs[0].normAxis(axis)
        var os = xs[0].shape
        os[a] = xs.reduce(0) { $0 + $1.shape[a] }
        for x in xs {
            var s = x.shape; s[a] = os[a]
            precondition(s == os, "concat: shape \(x.shape) incompatible with \(xs[0].shape) on axis \(a)")
        }
        let out = Tensor(uninitialized: os)
        let (outer, n, inner) = out.split3(a)
        var start = 0
        var starts: [Int] = []
        for x in xs {
            let len = x.shape[a] * inner
            starts.append(start)
            for b in 0..<outer { (out.ptr + (b * n + start) * inner).update(from: x.ptr + b * len, count: len) }
            start += x.shape[a]
        }
        return record(out, xs, backward: { g in
            for (i, x) in xs.enumerated() where x.requiresGrad {
                x.accumulateGrad(g.slice(axis: a, starts[i], starts[i] + x.shape[a]))
            }
        }, tangent: { ts in
            concat(zip(xs, ts).map { $1 ?? Tensor(zeros: $0.shape) }, axis: a)
        }, op: "concat")
    }

    /// Selects entries along `axis` at `indices` (rows may repeat).
    public func indexSelect(axis: Int, _ indices: [Int]) -> Tensor {
        let a = normAxis(axis)
        let (outer, n, inner) = split3(a)
        for i in indices { precondition(i >= 0 && i < n, "indexSelect: index \(i) out of range 0..<\(n)") }
        var os = shape; os[a] = indices.count
        let out = Tensor(uninitialized: os)
        let m = indices.count
        for b in 0..<outer {
            for (k, i) in indices.enumerated() {
                (out.ptr + (b * m + k) * inner).update(from: ptr + (b * n + i) * inner, count: inner)
            }
        }
        let inShape = shape
        return Tensor.record(out, [self], backward: { [self] g in
            let d = Tensor(zeros: inShape)
            for b in 0..<outer { for (k, i) in indices.enumerated() {
                let dp = d.ptr + (b * n + i) * inner, gp = g.ptr + (b * m + k) * inner
                for j in 0..<inner { dp[j] += gp[j] }
            } }
            self.accumulateGrad(d)
        }, tangent: { t in t[0]!.indexSelect(axis: a, indices) }, op: "indexSelect")
    }

    /// Returns a copy of `self` whose entries at `indices` along `axis` are replaced by `src`'s
    /// (src has `indices.count` there). Gradient: zero into self at replaced entries, gathered into src.
    public func scatter(axis: Int, _ indices: [Int], _ src: Tensor) -> Tensor {
        let a = normAxis(axis)
        let (outer, n, inner) = split3(a)
        var ss = shape; ss[a] = indices.count
        precondition(src.shape == ss, "scatter: src shape \(src.shape), expected \(ss)")
        let out = copy()
        let m = indices.count
        for b in 0..<outer { for (k, i) in indices.enumerated() {
            precondition(i >= 0 && i < n, "scatter: index \(i) out of range 0..<\(n)")
            (out.ptr + (b * n + i) * inner).update(from: src.ptr + (b * m + k) * inner, count: inner)
        } }
        let zeroSrc = Tensor(zeros: ss)
        return Tensor.record(out, [self, src], backward: { [self] g in
            if self.requiresGrad { self.accumulateGrad(g.detached().scatter(axis: a, indices, zeroSrc)) }
            if src.requiresGrad { src.accumulateGrad(g.detached().indexSelect(axis: a, indices)) }
        }, tangent: { t in
            (t[0] ?? Tensor(zeros: self.shape)).scatter(axis: a, indices, t[1] ?? zeroSrc)
        }, op: "scatter")
    }

    /// Picks `a` where `cond` != 0, else `b` (cond, a, b broadcast).
    public static func select(_ cond: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let c = cond.detached()
        let keep = Broadcast.apply(c, Tensor(scalar: 0), NonZeroOp.self)
        return a * keep + b * (1 - keep)
    }

    /// Embedding lookup: rows of `table` [V, D] at `ids` -> [ids.count, D] reshaped to `shape + [D]`.
    public static func gather(_ table: Tensor, ids: [Int], shape idShape: [Int]? = nil) -> Tensor {
        precondition(table.rank == 2, "gather: table must be [V, D], got \(table.shape)")
        let r = table.indexSelect(axis: 0, ids)
        return r.reshaped((idShape ?? [ids.count]) + [table.shape[1]])
    }
}
