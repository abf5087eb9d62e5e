import CBLAS
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
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(conv.outC), Int32(cols), Int32(conv.inC), 1,
                        conv.weight, Int32(conv.inC), x, Int32(cols), 1, yp.baseAddress!, Int32(cols))
            if relu6 { for i in 0..<yp.count { yp[i] = clamp6(yp[i]) } }
        }
        return y
    }

    /// Depthwise k x k conv + bias + ReLU6 on [C, N, H, W].
    static func depthwiseConv(_ x: [Float], n: Int, h: Int, w: Int, conv: Conv) -> ([Float], Int, Int) {
        let k = conv.k
        let s = conv.stride
        let (oh, padT) = samePadding(h, k: k, stride: s)
        let (ow, padL) = samePadding(w, k: k, stride: s)
        var y = [Float](repeating: 0, count: conv.outC * n * oh * ow)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                conv.weight.withUnsafeBufferPointer { wp in
                    for c in 0..<conv.outC {
                        let kw = wp.baseAddress! + c * k * k
                        let bias = conv.bias[c]
                        for b in 0..<n {
                            let src = xp.baseAddress! + (c * n + b) * h * w
                            let dst = yp.baseAddress! + (c * n + b) * oh * ow
                            for oy in 0..<oh {
                                let iy0 = oy * s - padT
                                for ox in 0..<ow {
                                    let ix0 = ox * s - padL
                                    var acc = bias
                                    for ky in 0..<k {
                                        let iy = iy0 + ky
                                        if iy < 0 || iy >= h { continue }
                                        let row = src + iy * w
                                        for kx in 0..<k {
                                            let ix = ix0 + kx
                                            if ix < 0 || ix >= w { continue }
                                            acc += kw[ky * k + kx] * row[ix]
                                        }
                                    }
                                    dst[oy * ow + ox] = clamp6(acc)
                                }
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
