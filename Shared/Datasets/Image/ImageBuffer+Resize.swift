import Foundation

extension ImageBuffer {
    /// Resizes with a separable triangle (bilinear) filter whose support widens when shrinking,
    /// so downscaling averages all covered source pixels (antialiased, like PIL's BILINEAR).
    public func resized(width outW: Int, height outH: Int) -> ImageBuffer {
        precondition(outW > 0 && outH > 0, "resize target must be positive")
        if outW == width && outH == height { return self }
        let horizontal = ImageBuffer.filterWeights(inSize: width, outSize: outW)
        let vertical = ImageBuffer.filterWeights(inSize: height, outSize: outH)
        let c = channels
        // Horizontal pass: [H, W, C] -> [H, outW, C]
        var tmp = [Float](repeating: 0, count: height * outW * c)
        pixels.withUnsafeBufferPointer { src in
            tmp.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    for ox in 0..<outW {
                        let (start, ws) = horizontal[ox]
                        for ch in 0..<c {
                            var acc: Float = 0
                            for (k, w) in ws.enumerated() { acc += w * src[(y * width + start + k) * c + ch] }
                            dst[(y * outW + ox) * c + ch] = acc
                        }
                    }
                }
            }
        }
        // Vertical pass: [H, outW, C] -> [outH, outW, C]
        var out = [Float](repeating: 0, count: outH * outW * c)
        tmp.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for oy in 0..<outH {
                    let (start, ws) = vertical[oy]
                    for i in 0..<(outW * c) {
                        var acc: Float = 0
                        for (k, w) in ws.enumerated() { acc += w * src[(start + k) * outW * c + i] }
                        dst[oy * outW * c + i] = acc
                    }
                }
            }
        }
        return try! ImageBuffer(width: outW, height: outH, channels: c, pixels: out)
    }

    /// Square resize.
    public func resized(to size: Int) -> ImageBuffer { resized(width: size, height: size) }

    /// Pads to a square canvas of `fill` (centred), then resizes to `size` x `size`; keeps aspect ratio.
    public func fitted(to size: Int, fill: Float = 1) -> ImageBuffer {
        let side = max(width, height)
        if side == width && side == height { return resized(to: size) }
        var canvas = ImageBuffer(width: side, height: side, channels: channels, fill: fill)
        let ox = (side - width) / 2
        let oy = (side - height) / 2
        for y in 0..<height {
            let srcRow = y * width * channels
            let dstRow = ((y + oy) * side + ox) * channels
            for i in 0..<(width * channels) { canvas.pixels[dstRow + i] = pixels[srcRow + i] }
        }
        return canvas.resized(to: size)
    }

    /// Crops the rectangle [x, x + w) x [y, y + h); throws if it leaves the image.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) throws -> ImageBuffer {
        guard x >= 0, y >= 0, w > 0, h > 0, x + w <= width, y + h <= height else {
            throw DatasetError.invalidArgument(
                field: "crop", message: "rectangle (\(x), \(y), \(w)x\(h)) must lie inside \(width)x\(height)")
        }
        var out = [Float](repeating: 0, count: w * h * channels)
        for row in 0..<h {
            let s = ((y + row) * width + x) * channels
            let d = row * w * channels
            for i in 0..<(w * channels) { out[d + i] = pixels[s + i] }
        }
        return try ImageBuffer(width: w, height: h, channels: channels, pixels: out)
    }

    /// Mirror image (left <-> right).
    public func flippedHorizontally() -> ImageBuffer {
        var out = pixels
        for y in 0..<height {
            for x in 0..<width {
                let s = (y * width + x) * channels
                let d = (y * width + (width - 1 - x)) * channels
                for c in 0..<channels { out[d + c] = pixels[s + c] }
            }
        }
        return try! ImageBuffer(width: width, height: height, channels: channels, pixels: out)
    }

    /// For each output index: first source index and normalised triangle-filter weights.
    static func filterWeights(inSize: Int, outSize: Int) -> [(Int, [Float])] {
        let scale = Double(inSize) / Double(outSize)
        let support = max(scale, 1.0)  // filter radius in source pixels
        var result: [(Int, [Float])] = []
        result.reserveCapacity(outSize)
        for o in 0..<outSize {
            let center = (Double(o) + 0.5) * scale
            let lo = max(0, Int((center - support).rounded(.down)))
            let hi = min(inSize, Int((center + support).rounded(.up)))
            var ws: [Float] = []
            var total = 0.0
            for i in lo..<hi {
                let w = max(0, 1 - abs((Double(i) + 0.5 - center) / support))
                ws.append(Float(w))
                total += w
            }
            if total <= 0 {
                let nearest = min(inSize - 1, max(0, Int(center)))
                result.append((nearest, [1]))
            } else {
                result.append((lo, ws.map { $0 / Float(total) }))
            }
        }
        return result
    }
}
