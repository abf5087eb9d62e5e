import ComputeCore
import Datasets
import Evaluation
import Foundation

/// Metrics of one trained tokenizer (METHODS.md §1, "The experiment that proves it").
public struct TokenizerMetrics: Codable, Sendable, Equatable {
    /// FD-EffNet between validation images and their reconstructions (at `fdResolution` px).
    public var rFD: Double
    public var psnr: Double
    public var ssim: Double
    /// Zero-shot top-1 on Fashion-MNIST test with text prompts (nil: no CLIP head trained or not Fashion-MNIST).
    public var zeroShot: Double?
    /// Linear-probe top-1 on the mean-pooled bottleneck latent and on the CLS.
    public var probeLatent: Double
    public var probeCLS: Double
    public var evalImages: Int
    public var fdResolution: Int

    /// As flat metrics for the run audit.
    public var dictionary: [String: Double] {
        var d = ["rfd": rFD, "psnr": psnr, "ssim": ssim, "probe_latent": probeLatent, "probe_cls": probeCLS]
        if let z = zeroShot { d["zero_shot"] = z }
        return d
    }
}

/// Evaluates a tokenizer: reconstruction (rFD, PSNR, SSIM) on the validation split, zero-shot
/// on Fashion-MNIST test, linear probes on pooled latents and CLS.
public struct TokenizerEvaluator {
    public var reconstructionImages = 500
    public var probeTrain = 2000
    public var probeValidation = 1000
    public var zeroShotImages = 1000
    public var fdResolution = 96
    public var batchSize = 64
    public init() {}

    public func evaluate(_ tok: VTPTokenizer, data: VTPData, text: TextEmbeddingCache,
                         effnet: EffNetFeatureExtractor? = nil) throws -> TokenizerMetrics {
        let size = tok.imageSize
        // Reconstruction on the validation split.
        let valIdx = Array(data.validation.prefix(reconstructionImages))
        var originals: [ImageBuffer] = [], recons: [ImageBuffer] = []
        for chunk in stride(from: 0, to: valIdx.count, by: batchSize) {
            let imgs = try data.images(Array(valIdx[chunk..<min(valIdx.count, chunk + batchSize)]), size: size)
            originals += imgs
            recons += try tok.decode(try tok.encode(imgs))
        }
        var psnr = 0.0, ssim = 0.0
        for (a, b) in zip(originals, recons) { psnr += min(try ImageQuality.psnr(a, b), 100); ssim += try ImageQuality.ssim(a, b) }
        let fx = try effnet ?? EffNetFeatureExtractor(resolution: fdResolution)
        let rfd = try fx.frechetDistance(originals, recons)

        // Linear probes on frozen features.
        func features(_ idx: [Int]) throws -> (lat: [[Float]], cls: [[Float]], y: [Int]) {
            var lat: [[Float]] = [], cls: [[Float]] = []
            for chunk in stride(from: 0, to: idx.count, by: batchSize) {
                let part = Array(idx[chunk..<min(idx.count, chunk + batchSize)])
                let (z, c) = try tok.encodeWithCLS(try data.images(part, size: size))
                lat += tok.rows(withNoGrad { z.mean(axis: 1) })
                cls += tok.rows(c)
            }
            return (lat, cls, idx.map { data.dataset.label(at: $0) })
        }
        var rng = SeededRNG(seed: 99)
        let trainIdx = Array(data.train.shuffled(using: &rng).prefix(probeTrain))
        let tr = try features(trainIdx), va = try features(Array(data.validation.suffix(probeValidation)))
        let classes = max(2, data.dataset.classNames.count)
        let pLat = try LinearProbe(trainX: tr.lat, trainY: tr.y, valX: va.lat, valY: va.y, classes: classes)
        let pCLS = try LinearProbe(trainX: tr.cls, trainY: tr.y, valX: va.cls, valY: va.y, classes: classes)

        // Zero-shot on Fashion-MNIST test with the trained CLIP head.
        var zeroShot: Double?
        if tok.config.variant.usesCLIP && tok.config.train.dataset.hasPrefix("fashion-mnist") {
            let test = try DatasetCatalog.open("fashion-mnist-test", resolution: size, rgb: true)
            let zs = try ZeroShotClassifier(classNames: test.classNames, templates: test.templates) { tok.clipText(text.embed($0)) }
            zeroShot = try zs.accuracy(on: test, indices: Array(0..<min(test.count, zeroShotImages)), batchSize: batchSize) {
                try tok.clipEmbedding($0.map { $0.width == size ? $0 : $0.resized(to: size) })
            }
        }
        return TokenizerMetrics(rFD: rfd, psnr: psnr / Double(originals.count), ssim: ssim / Double(originals.count),
                                zeroShot: zeroShot, probeLatent: pLat.result.validationAccuracy,
                                probeCLS: pCLS.result.validationAccuracy, evalImages: originals.count, fdResolution: fx.resolution)
    }
}
