import Foundation

/// Random resized crop: a crop covering `scale` of the area with aspect ratio in `ratio`
/// (log-uniform), resized to `size` x `size` (the SimCLR/DINO crop).
public struct RandomResizedCrop: Sendable {
    public var size: Int
    public var scale: ClosedRange<Float>
    public var ratio: ClosedRange<Float>

    public init(size: Int, scale: ClosedRange<Float> = 0.08...1, ratio: ClosedRange<Float> = 0.75...(4.0 / 3.0)) throws {
        guard size > 0 else { throw DatasetError.invalidArgument(field: "size", message: "must be positive, got \(size)") }
        guard scale.lowerBound > 0, scale.upperBound <= 1 else {
            throw DatasetError.invalidArgument(field: "scale", message: "must lie in (0, 1], got \(scale)")
        }
        guard ratio.lowerBound > 0 else { throw DatasetError.invalidArgument(field: "ratio", message: "must be positive, got \(ratio)") }
        self.size = size
        self.scale = scale
        self.ratio = ratio
    }

    public func apply(_ image: ImageBuffer, rng: inout SeededRNG) -> ImageBuffer {
        let area = Float(image.width * image.height)
        for _ in 0..<10 {
            let target = area * rng.uniform(scale.lowerBound, scale.upperBound)
            let logr = rng.uniform(log(ratio.lowerBound), log(ratio.upperBound))
            let ar = exp(logr)
            let w = Int((sqrt(target * ar)).rounded())
            let h = Int((sqrt(target / ar)).rounded())
            if w > 0, h > 0, w <= image.width, h <= image.height {
                let x = Int(rng.next() % UInt64(image.width - w + 1))
                let y = Int(rng.next() % UInt64(image.height - h + 1))
                return try! image.cropped(x: x, y: y, width: w, height: h).resized(to: size)
            }
        }
        // Fallback: central crop clamped to the ratio range.
        let inRatio = Float(image.width) / Float(image.height)
        var w = image.width
        var h = image.height
        if inRatio < ratio.lowerBound { h = Int((Float(w) / ratio.lowerBound).rounded()) }
        else if inRatio > ratio.upperBound { w = Int((Float(h) * ratio.upperBound).rounded()) }
        return try! image.cropped(x: (image.width - w) / 2, y: (image.height - h) / 2, width: w, height: h).resized(to: size)
    }
}

/// Light colour jitter: brightness, contrast and saturation factors drawn from 1 +/- strength,
/// applied in random order; results clamped to [0, 1].
public struct ColorJitter: Sendable {
    public var brightness: Float
    public var contrast: Float
    public var saturation: Float

    public init(brightness: Float = 0.2, contrast: Float = 0.2, saturation: Float = 0.2) {
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
    }

    public func apply(_ image: ImageBuffer, rng: inout SeededRNG) -> ImageBuffer {
        var img = image
        var ops = [0, 1, 2]
        ops.shuffle(using: &rng)
        for op in ops {
            switch op {
            case 0 where brightness > 0:
                let f = rng.uniform(1 - brightness, 1 + brightness)
                for i in img.pixels.indices { img.pixels[i] *= f }
            case 1 where contrast > 0:
                let f = rng.uniform(1 - contrast, 1 + contrast)
                let mean = img.gray().pixels.reduce(0, +) / Float(img.width * img.height)
                for i in img.pixels.indices { img.pixels[i] = mean + f * (img.pixels[i] - mean) }
            case 2 where saturation > 0 && img.channels == 3:
                let f = rng.uniform(1 - saturation, 1 + saturation)
                let g = img.gray().pixels
                for p in 0..<(img.width * img.height) {
                    for c in 0..<3 { img.pixels[3 * p + c] = g[p] + f * (img.pixels[3 * p + c] - g[p]) }
                }
            default:
                break
            }
            for i in img.pixels.indices { img.pixels[i] = min(1, max(0, img.pixels[i])) }
        }
        return img
    }
}

/// One self-supervised view: crop, optional horizontal flip (p = 0.5), optional colour jitter.
public struct ViewAugmentation: Sendable {
    public var crop: RandomResizedCrop
    public var flip: Bool
    public var jitter: ColorJitter?

    public init(crop: RandomResizedCrop, flip: Bool = true, jitter: ColorJitter? = ColorJitter()) {
        self.crop = crop
        self.flip = flip
        self.jitter = jitter
    }

    public func apply(_ image: ImageBuffer, rng: inout SeededRNG) -> ImageBuffer {
        var out = crop.apply(image, rng: &rng)
        if flip && rng.next() & 1 == 1 { out = out.flippedHorizontally() }
        if let j = jitter { out = j.apply(out, rng: &rng) }
        return out
    }
}

/// Multi-crop views for DINO/iBOT-style training: `globalCount` large crops and `localCount`
/// small ones (defaults follow DINOv2: global scale 0.32-1, local 0.05-0.32).
public struct MultiCropAugmentation: Sendable {
    public var global: ViewAugmentation
    public var local: ViewAugmentation
    public var globalCount: Int
    public var localCount: Int

    /// DINOv2's crop area scales (fractions of the image).
    public static let defaultGlobalScale: ClosedRange<Float> = 0.32...1
    public static let defaultLocalScale: ClosedRange<Float> = 0.05...0.32

    public init(globalSize: Int, localSize: Int, globalCount: Int = 2, localCount: Int = 4,
                globalScale: ClosedRange<Float> = defaultGlobalScale, localScale: ClosedRange<Float> = defaultLocalScale,
                jitter: ColorJitter? = ColorJitter()) throws {
        guard globalCount >= 1 else { throw DatasetError.invalidArgument(field: "globalCount", message: "must be >= 1, got \(globalCount)") }
        guard localCount >= 0 else { throw DatasetError.invalidArgument(field: "localCount", message: "must be >= 0, got \(localCount)") }
        global = ViewAugmentation(crop: try RandomResizedCrop(size: globalSize, scale: globalScale), jitter: jitter)
        local = ViewAugmentation(crop: try RandomResizedCrop(size: localSize, scale: localScale), jitter: jitter)
        self.globalCount = globalCount
        self.localCount = localCount
    }

    /// Views of one image: globals first, then locals.
    public func views(_ image: ImageBuffer, rng: inout SeededRNG) -> (global: [ImageBuffer], local: [ImageBuffer]) {
        let g = (0..<globalCount).map { _ in global.apply(image, rng: &rng) }
        let l = (0..<localCount).map { _ in local.apply(image, rng: &rng) }
        return (g, l)
    }
}
