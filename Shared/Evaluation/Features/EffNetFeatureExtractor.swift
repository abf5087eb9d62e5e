import Datasets
import Foundation
import Models

/// EfficientNet-Lite0 pooled features of images, for the FID-like metric ("FD-EffNet").
/// Preprocessing: alpha already composited on white by the readers, gray replicated to RGB,
/// antialiased triangle-filter resize to `resolution` (224 by default; tests use smaller sizes
/// and say so - FD values are only comparable at the same resolution), then (255 x - 127) / 128.
public final class EffNetFeatureExtractor: @unchecked Sendable {
    public let network: EfficientNetLite0
    public var resolution: Int { network.resolution }

    public init(resolution: Int = EfficientNetLite0.trainedResolution, path: String? = nil) throws {
        network = try EfficientNetLite0(path: path, resolution: resolution)
    }

    /// Network input of one image in [0, 1]. // [3, R, R]
    public func input(_ image: ImageBuffer) -> [Float] {
        image.rgb().resized(to: resolution).chw()
    }

    /// 1280-d features. // [N, 1280]
    public func features(_ images: [ImageBuffer], batchSize: Int = 8) -> [[Float]] {
        var out: [[Float]] = []
        var start = 0
        while start < images.count {
            let chunk = images[start..<min(images.count, start + batchSize)].map(input)
            out.append(contentsOf: network.features(chunk, batchSize: batchSize))
            start += batchSize
        }
        return out
    }

    /// Features of the first `limit` items of a dataset (all if nil). // [N, 1280]
    public func features(of dataset: any ImageDataset, limit: Int? = nil, batchSize: Int = 8) throws -> [[Float]] {
        let n = min(dataset.count, limit ?? dataset.count)
        var out: [[Float]] = []
        var start = 0
        while start < n {
            let imgs = try dataset.images(at: Array(start..<min(n, start + batchSize)))
            out.append(contentsOf: features(imgs, batchSize: batchSize))
            start += batchSize
        }
        return out
    }

    /// Spatial feature maps after `stage` (1...7 MBConv stages, 8 = head), e.g. frozen teacher
    /// features for semantic distillation. -> maps [N][C * h * w] with C, h, w
    public func featureMaps(_ images: [ImageBuffer], stage: Int) throws -> (maps: [[Float]], channels: Int, height: Int, width: Int) {
        try network.featureMaps(images.map(input), stage: stage)
    }

    /// ImageNet logits. // [N, 1000]
    public func logits(_ images: [ImageBuffer]) -> [[Float]] { network.logits(images.map(input)) }

    /// FD-EffNet between two image sets.
    public func frechetDistance(_ a: [ImageBuffer], _ b: [ImageBuffer]) throws -> Double {
        try FrechetDistance.distance(features(a), features(b))
    }
}
