import CBLAS
import Dispatch
import Glibc

/// A strided view of per-token rows holding H heads of D values starting at column `col`.
struct HeadView {
    let base: UnsafeMutablePointer<Float>
    let rowStride: Int      // floats between consecutive tokens
    let tokens: Int         // tokens per batch element
    let col: Int            // column of head 0
    @inline(__always) func at(_ b: Int, _ h: Int, _ d: Int) -> UnsafeMutablePointer<Float> {
        base + b * tokens * rowStride + col + h * d
    }
}

/// Fused multi-head scaled dot-product attention on raw buffers (one GEMM pair per batch x head).
struct AttentionKernel {
    let B: Int, H: Int, D: Int, Tq: Int, Tk: Int
    let scale: Float
    let mask: AttentionMask
    let ropeQ: RoPE?, ropeK: RoPE?
    let ropeKOffset: Int  // token offset of key 0 in ropeK tables (unused when keys are pre-rotated)

    /// Runs `body(item, scratch)` for items = B*H on the elementwise workers with 1 BLAS thread each.
    func forEachHead(scratchFloats: Int, _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let items = B * H
        let workers = Swift.min(Threads.elementwise, items)
        if workers <= 1 || Tq * Tk * D < 4096 {
            let s = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(scratchFloats, 1))
            defer { s.deallocate() }
            for i in 0..<items { body(i, s) }
            return
        }
        let prev = openblas_get_num_threads()
        if prev != 1 { openblas_set_num_threads(1) }
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let s = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(scratchFloats, 1))
            defer { s.deallocate() }
            for i in (items * w / workers)..<(items * (w + 1) / workers) { body(i, s) }
        }
        if prev != 1 { openblas_set_num_threads(prev) }
    }

    /// Rotated copy (or direct pointer) of one head's rows: returns (ptr, ld).
    @inline(__always)
    func headRows(_ v: HeadView, _ b: Int, _ h: Int, _ T: Int, _ rope: RoPE?, _ tOff: Int,
                  _ scratch: UnsafeMutablePointer<Float>) -> (UnsafeMutablePointer<Float>, Int) {
        let p = v.at(b, h, D)
        guard let rope else { return (p, v.rowStride) }
        for t in 0..<T { rope.rotate(p + t * v.rowStride, scratch + t * D, b: b, t: t + tOff) }
        return (scratch, D)
    }

    /// Fills scores S = scale * Qr Kr^T with the mask applied and softmax -> P (in place).
    @inline(__always)
    func probabilities(_ qp: UnsafeMutablePointer<Float>, _ ldq: Int, _ kp: UnsafeMutablePointer<Float>, _ ldk: Int,
                       _ b: Int, _ h: Int, _ P: UnsafeMutablePointer<Float>) {
        BLAS.gemm(false, true, Tq, Tk, D, scale, qp, ldq, kp, ldk, 0, P, Tk, split: false)
        let off = Tk - Tq
        if let add = mask.additive {
            let per = Tq * Tk
            let a: UnsafeMutablePointer<Float>
            if add.count == per { a = add.ptr }
            else if add.count == B * per { a = add.ptr + b * per }
            else { a = add.ptr + (b * H + h) * per }
            for i in 0..<per { P[i] += a[i] }
        }
        let pad = mask.keyPadding.map { $0.ptr + b * Tk }
        for i in 0..<Tq {
            let row = P + i * Tk
            if mask.causal { let lim = i + off + 1; if lim < Tk { for j in Swift.max(lim, 0)..<Tk { row[j] = -Float.infinity } } }
            if let pad { for j in 0..<Tk where pad[j] == 0 { row[j] = -Float.infinity } }
            Softmax.row(row, row, Tk)
        }
    }

    func validate() {
        for (rope, T, name) in [(ropeQ, Tq, "queries"), (ropeK, Tk + ropeKOffset, "keys")] {
            guard let rope else { continue }
            precondition(rope.headDim == D, "attention: RoPE headDim \(rope.headDim) != head size \(D)")
            precondition(rope.tokens >= T, "attention: RoPE tables cover \(rope.tokens) tokens, \(name) need \(T)")
            precondition(rope.batch == 1 || rope.batch == B, "attention: RoPE batch \(rope.batch) must be 1 or \(B)")
        }
        if let kp = mask.keyPadding {
            precondition(kp.shape == [B, Tk], "attention: keyPadding shape \(kp.shape), expected [\(B), \(Tk)]")
        }
        if let a = mask.additive {
            let per = Tq * Tk
            precondition(a.count == per || a.count == B * per || a.count == B * H * per,
                         "attention: additive mask shape \(a.shape) must be [Tq,Tk], [B,Tq,Tk] or [B,H,Tq,Tk] with Tq=\(Tq), Tk=\(Tk)")
        }
    }

    /// out = softmax(mask(scale Qr Kr^T)) V; probabilities stored to P [B, H, Tq, Tk].
    func forward(q: HeadView, k: HeadView, v: HeadView, out: HeadView, P: UnsafeMutablePointer<Float>) {
        validate()
        forEachHead(scratchFloats: (Tq + Tk) * D) { item, s in
            let b = item / H, h = item % H
            let (qp, ldq) = headRows(q, b, h, Tq, ropeQ, 0, s)
            let (kp, ldk) = headRows(k, b, h, Tk, ropeK, ropeKOffset, s + Tq * D)
            let Pb = P + item * Tq * Tk
            probabilities(qp, ldq, kp, ldk, b, h, Pb)
            BLAS.gemm(false, false, Tq, D, Tk, 1, Pb, Tk, v.at(b, h, D), v.rowStride, 0, out.at(b, h, D), out.rowStride, split: false)
        }
    }

    /// Reverse pass: given dO, writes dQ, dK, dV (views shaped like the inputs; beta = 0 per head).
    func backward(q: HeadView, k: HeadView, v: HeadView, P: UnsafeMutablePointer<Float>, dO: HeadView,
                  dq: HeadView?, dk: HeadView?, dv: HeadView?) {
        let scratch = (Tq + Tk) * D * 2 + Tq * Tk
        forEachHead(scratchFloats: scratch) { item, s in
            let b = item / H, h = item % H
            let (qp, ldq) = headRows(q, b, h, Tq, ropeQ, 0, s)
            let (kp, ldk) = headRows(k, b, h, Tk, ropeK, ropeKOffset, s + Tq * D)
            let dP = s + (Tq + Tk) * D
            let tmp = dP + Tq * Tk
            let Pb = P + item * Tq * Tk
            let dOp = dO.at(b, h, D)
            if let dv { BLAS.gemm(true, false, Tk, D, Tq, 1, Pb, Tk, dOp, dO.rowStride, 0, dv.at(b, h, D), dv.rowStride, split: false) }
            guard dq != nil || dk != nil else { return }
            BLAS.gemm(false, true, Tq, Tk, D, 1, dOp, dO.rowStride, v.at(b, h, D), v.rowStride, 0, dP, Tk, split: false)
            for i in 0..<Tq {
                let pr = Pb + i * Tk, dr = dP + i * Tk
                let dot = Kernels.dot(pr, dr, Tk)
                for j in 0..<Tk { dr[j] = pr[j] * (dr[j] - dot) }
            }
            if let dq {
                if let ropeQ {
                    BLAS.gemm(false, false, Tq, D, Tk, scale, dP, Tk, kp, ldk, 0, tmp, D, split: false)
                    let dst = dq.at(b, h, D)
                    for t in 0..<Tq { ropeQ.rotate(tmp + t * D, dst + t * dq.rowStride, b: b, t: t, inverse: true) }
                } else {
                    BLAS.gemm(false, false, Tq, D, Tk, scale, dP, Tk, kp, ldk, 0, dq.at(b, h, D), dq.rowStride, split: false)
                }
            }
            if let dk {
                if let ropeK {
                    BLAS.gemm(true, false, Tk, D, Tq, scale, dP, Tk, qp, ldq, 0, tmp, D, split: false)
                    let dst = dk.at(b, h, D)
                    for t in 0..<Tk { ropeK.rotate(tmp + t * D, dst + t * dk.rowStride, b: b, t: t + ropeKOffset, inverse: true) }
                } else {
                    BLAS.gemm(true, false, Tk, D, Tq, scale, dP, Tk, qp, ldq, 0, dk.at(b, h, D), dk.rowStride, split: false)
                }
            }
        }
    }

    /// Forward-mode: tO = tP V + P tV with tP = P ⊙ (tS − rowsum(P ⊙ tS)),
    /// tS = scale (tQr Kr^T + Qr tKr^T). Nil tangents are zero.
    func tangent(q: HeadView, k: HeadView, v: HeadView, P: UnsafeMutablePointer<Float>,
                 tq: HeadView?, tk: HeadView?, tv: HeadView?, out: HeadView) {
        let scratch = (Tq + Tk) * D * 2 + Tq * Tk
        forEachHead(scratchFloats: scratch) { item, s in
            let b = item / H, h = item % H
            let Pb = P + item * Tq * Tk
            let tS = s + (Tq + Tk) * D * 2
            let o = out.at(b, h, D)
            var haveS = false
            if let tq {
                let (kp, ldk) = headRows(k, b, h, Tk, ropeK, ropeKOffset, s + Tq * D)
                let (tqp, ldt) = headRows(tq, b, h, Tq, ropeQ, 0, s + (Tq + Tk) * D)
                BLAS.gemm(false, true, Tq, Tk, D, scale, tqp, ldt, kp, ldk, 0, tS, Tk, split: false)
                haveS = true
            }
            if let tk {
                let (qp, ldq) = headRows(q, b, h, Tq, ropeQ, 0, s)
                let (tkp, ldt) = headRows(tk, b, h, Tk, ropeK, ropeKOffset, s + (Tq + Tk) * D + Tq * D)
                BLAS.gemm(false, true, Tq, Tk, D, scale, qp, ldq, tkp, ldt, haveS ? 1 : 0, tS, Tk, split: false)
                haveS = true
            }
            var beta: Float = 0
            if haveS {
                for i in 0..<Tq {
                    let pr = Pb + i * Tk, tr = tS + i * Tk
                    var dot: Float = 0
                    for j in 0..<Tk where pr[j] != 0 { dot += pr[j] * tr[j] }
                    for j in 0..<Tk { tr[j] = pr[j] == 0 ? 0 : pr[j] * (tr[j] - dot) }
                }
                BLAS.gemm(false, false, Tq, D, Tk, 1, tS, Tk, v.at(b, h, D), v.rowStride, 0, o, out.rowStride, split: false)
                beta = 1
            }
            if let tv {
                BLAS.gemm(false, false, Tq, D, Tk, 1, Pb, Tk, tv.at(b, h, D), tv.rowStride, beta, o, out.rowStride, split: false)
            } else if beta == 0 {
                for t in 0..<Tq { (o + t * out.rowStride).update(repeating: 0, count: D) }
            }
        }
    }
}
