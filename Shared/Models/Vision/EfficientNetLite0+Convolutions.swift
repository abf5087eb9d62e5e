import CBLAS
import ComputeCore
import Dispatch
import Foundation

extension EfficientNetLite0 {
    /// TensorFlow SAME padding: output ceil(in / stride); the odd extra pixel goes bottom/right.
    static func samePadding(_ size: Int, k: Int, stride: Int) -> (out: Int, before: Int) {
        let out = (size + stride - 1) / stride
        let total = max((out - 1) * stride + k - size, 0)
        return (out, total / 2)
    }

    @inline(__always) static func clamp6(_ v: Float) -> Float { min(max(v, 0), 6) }

    /// 1x1 conv as one GEMM: Y[O, cols] = W[O, C] X[C, cols] + b.
    static func pointwise(_ x: [Float], cols: Int, conv: Conv, relu6: Bool) -> [Float] {
        var y = [Float](repeating: 0, count: conv.outC * cols)
        y.withUnsafeMutableBufferPointer { yp in
            for o in 0..<conv.outC { (yp.baseAddress! + o * cols).update(repeating: conv.bias[o], count: cols) }
            BLAS.gemm(false, false, conv.outC, cols, conv.inC, 1,
                        conv.weight, conv.inC, x, cols, 1, yp.baseAddress!, cols)
            if relu6 { for i in 0..<yp.count { yp[i] = clamp6(yp[i]) } }
        }
        return y
    }

    /// Depthwise k x k conv + bias + ReLU6 on [C, N, H, W]. Each plane is copied into a zero-padded
    /// scratch buffer so the inner loops are branch-free row AXPYs; planes are split over 2 workers.
    static func depthwiseConv(_ x: [Float], n: Int, h: Int, w: Int, conv: Conv) -> ([Float], Int, Int) {
        let k = conv.k
        let s = conv.stride
        let (oh, padT) = samePadding(h, k: k, stride: s)
        let (ow, padL) = samePadding(w, k: k, stride: s)
        let ph = (oh - 1) * s + k
        let pw = (ow - 1) * s + k
        let planes = conv.outC * n
        var y = [Float](repeating: 0, count: planes * oh * ow)
        let workers = planes * oh * ow >= 1 << 14 ? 2 : 1
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                conv.weight.withUnsafeBufferPointer { wp in
                    conv.bias.withUnsafeBufferPointer { bp in
                        let xb = xp.baseAddress!, yb = yp.baseAddress!, wb = wp.baseAddress!, bb = bp.baseAddress!
                        DispatchQueue.concurrentPerform(iterations: workers) { worker in
                            let padded = UnsafeMutablePointer<Float>.allocate(capacity: ph * pw)
                            defer { padded.deallocate() }
                            let lo = planes * worker / workers, hi = planes * (worker + 1) / workers
                            for plane in lo..<hi {
                                let c = plane / n
                                let src = xb + plane * h * w
                                let dst = yb + plane * oh * ow
                                padded.update(repeating: 0, count: ph * pw)
                                let rows = min(h, ph - padT), cols = min(w, pw - padL)
                                for r in 0..<rows { (padded + (r + padT) * pw + padL).update(from: src + r * w, count: cols) }
                                dst.update(repeating: bb[c], count: oh * ow)
                                let kw = wb + c * k * k
                                for ky in 0..<k {
                                    for kx in 0..<k {
                                        let wv = kw[ky * k + kx]
                                        for oy in 0..<oh {
                                            let srow = padded + (oy * s + ky) * pw + kx
                                            let drow = dst + oy * ow
                                            if s == 1 {
                                                for ox in 0..<ow { drow[ox] += wv * srow[ox] }
                                            } else {
                                                for ox in 0..<ow { drow[ox] += wv * srow[ox * s] }
                                            }
                                        }
                                    }
                                }
                                for i in 0..<(oh * ow) { dst[i] = clamp6(dst[i]) }
                            }
                        }
                    }
                }
            }
        }
        return (y, oh, ow)
    }

    /// Dense k x k conv (the stem) via im2col + GEMM on [C, N, H, W].
    static func denseConv(_ x: [Float], n: Int, h: Int, w: Int, conv: Conv, relu6: Bool) -> ([Float], Int, Int) {
        let k = conv.k
        let s = conv.stride
        let (oh, padT) = samePadding(h, k: k, stride: s)
        let (ow, padL) = samePadding(w, k: k, stride: s)
        let cols = n * oh * ow
        let rows = conv.inC * k * k
        var col = [Float](repeating: 0, count: rows * cols)
        for c in 0..<conv.inC {
            for ky in 0..<k {
                for kx in 0..<k {
                    let r = (c * k + ky) * k + kx
                    for b in 0..<n {
                        for oy in 0..<oh {
                            let iy = oy * s - padT + ky
                            if iy < 0 || iy >= h { continue }
                            for ox in 0..<ow {
                                let ix = ox * s - padL + kx
                                if ix < 0 || ix >= w { continue }
                                col[r * cols + (b * oh + oy) * ow + ox] = x[((c * n + b) * h + iy) * w + ix]
                            }
                        }
                    }
                }
            }
        }
        let wrapped = Conv(weight: conv.weight, bias: conv.bias, outC: conv.outC, inC: rows, k: 1, stride: 1, depthwise: false)
        return (pointwise(col, cols: cols, conv: wrapped, relu6: relu6), oh, ow)
    }
}
