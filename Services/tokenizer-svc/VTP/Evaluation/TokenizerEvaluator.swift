import ComputeCore
import Datasets
import Evaluation
import Foundation

/// Metrics of one trained tokenizer (METHODS.md §1, "The experiment that proves it"), each with
/// its spread (`Estimate`: bootstrap over the scored images).
public struct TokenizerMetrics: Codable, Sendable, Equatable {
    /// FD-EffNet between validation images and their reconstructions (at `fdResolution` px); std
    /// over bootstrap resamples of the image pairs.
    public var rFD: Estimate
    public var psnr: Double
    public var ssim: Double
    /// CLIP-head text classification of test images with prompt templates never used in training
    /// captions (`CaptionTemplates.heldOut`). Not zero-shot: the class names are in the training
    /// captions. nil: no CLIP head, or a dataset without class captions.
    public var heldOutText: Estimate?
    /// Linear probes (L2 strength chosen on a tuning part of the train split, scored on the
    /// validation split) on the full latent grid the generator consumes [T·C], the mean-pooled
    /// latent [C] and the CLS (nil: a tokenizer without a summary embedding, e.g. RecTok).
    public var probeGrid: Estimate
    public var probeLatent: Estimate
    public var probeCLS: Estimate?
    /// Probe images: train, tune (chose the L2 strength), scored.
    public var probeSplit: [Int]
    public var evalImages: Int
    public var fdResolution: Int

    /// As flat metrics for the run audit.
    public var dictionary: [String: Double] {
        var d = ["rfd": rFD.value, "rfd_std": rFD.std, "psnr": psnr, "ssim": ssim, "probe_grid": probeGrid.value,
                 "probe_latent": probeLatent.value]
        if let c = probeCLS { d["probe_cls"] = c.value }
        if let z = heldOutText { d["heldout_text"] = z.value }
        return d
    }
}

/// Evaluates any tokenizer (`LatentTokenizer`: VTP, RecTok): reconstruction (rFD, PSNR, SSIM) on
/// the validation split, text classification with held-out templates on the test split (when the
/// tokenizer has a CLIP head), linear probes on the latent grid, the pooled latent and the CLS
/// (when it has a summary embedding). Knobs are never chosen on the images they are scored on.
public struct TokenizerEvaluator {
    public var reconstructionImages = 2000
    public var probeTrain = 2000
    /// Train-split images (disjoint from `probeTrain`) that choose each probe's L2 strength.
    public var probeTune = 1000
    /// Validation-split images the probes are scored on.
    public var probeScored = 2000
    public var heldOutTextImages = 2000
    public var fdResolution = 96
    public var batchSize = 64
    public var bootstrap = 200
    /// rFD resamples (each one FD on 1,280-d features).
    public var fdBootstrap = 10
    public init() {}

    /// The metrics of `tok` on `data` (its training dataset and split: `VTPData(tokenizer:)`).
    public func evaluate(_ tok: any LatentTokenizer, data: VTPData, text: TextEmbeddingCache,
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
        let fo = fx.features(originals, batchSize: batchSize), fr = fx.features(recons, batchSize: batchSize)
        let rfd = try FrechetDistance.distance(fo, fr)
        var rng = SeededRNG(seed: 0xfd)
        let rfdReps = try (0..<fdBootstrap).map { _ -> Double in
            let idx = Bootstrap.resample(fo.count, rng: &rng)
            return try FrechetDistance.distance(idx.map { fo[$0] }, idx.map { fr[$0] })
        }

        // Linear probes: fit on probe-train, choose L2 on probe-tune (both train split), score on validation.
        var shuffle = SeededRNG(seed: 99)
        let pool = data.train.shuffled(using: &shuffle)
        let trainIdx = Array(pool.prefix(probeTrain)), tuneIdx = Array(pool.dropFirst(probeTrain).prefix(probeTune))
        let scoredIdx = Array(data.validation.suffix(probeScored))
        let tr = try probeFeatures(tok, data: data, trainIdx), tu = try probeFeatures(tok, data: data, tuneIdx)
        let sc = try probeFeatures(tok, data: data, scoredIdx)
        let classes = max(2, data.dataset.classNames.count)
        func probe(_ kind: KeyPath<ProbeFeatures, [[Float]]>, seed: UInt64) throws -> Estimate? {
            guard !tr[keyPath: kind].isEmpty else { return nil }
            let p = try LinearProbe(trainX: tr[keyPath: kind], trainY: tr.y, valX: tu[keyPath: kind], valY: tu.y, classes: classes)
            let ok = zip(p.predict(sc[keyPath: kind]), sc.y).map { $0 == $1 ? 1.0 : 0.0 }
            return Bootstrap.mean(ok, replicates: bootstrap, seed: seed)
        }

        // Text classification with templates no training caption uses, on the test split.
        var heldOut: Estimate?
        let testName = ["fashion-mnist": "fashion-mnist-test", "fmnist-color": "fmnist-color-test"][tok.datasetName]
        if let clip = tok.textAlignment, let testName {
            let test = try DatasetCatalog.open(testName, resolution: size, rgb: true)
            let zs = try ZeroShotClassifier(classNames: test.classNames, templates: .heldOut) { clip.clipText(text.embed($0)) }
            let n = min(test.count, heldOutTextImages)
            var ok: [Double] = []
            for chunk in stride(from: 0, to: n, by: batchSize) {
                let idx = Array(chunk..<min(n, chunk + batchSize))
                let imgs = try idx.map { try test.image(at: $0) }.map { $0.width == size ? $0 : $0.resized(to: size) }
                let pred = try zs.predict(try clip.clipEmbedding(imgs))
                ok += zip(pred, idx).map { $0 == test.label(at: $1) ? 1.0 : 0.0 }
            }
            heldOut = Bootstrap.mean(ok, replicates: bootstrap, seed: 4)
        }
        return TokenizerMetrics(rFD: Estimate.from(value: rfd, replicates: rfdReps), psnr: psnr / Double(originals.count),
                                ssim: ssim / Double(originals.count), heldOutText: heldOut,
                                probeGrid: try probe(\.grid, seed: 1)!, probeLatent: try probe(\.pooled, seed: 2)!,
                                probeCLS: try probe(\.cls, seed: 3), probeSplit: [trainIdx.count, tuneIdx.count, scoredIdx.count],
                                evalImages: originals.count, fdResolution: fx.resolution)
    }

    /// Frozen features of images `idx`: the latent grid flattened [T·C], its token mean [C], the
    /// CLS (empty without a summary embedding), labels.
    struct ProbeFeatures { var grid: [[Float]] = [], pooled: [[Float]] = [], cls: [[Float]] = [], y: [Int] = [] }

    func probeFeatures(_ tok: any LatentTokenizer, data: VTPData, _ idx: [Int]) throws -> ProbeFeatures {
        var f = ProbeFeatures()
        for chunk in stride(from: 0, to: idx.count, by: batchSize) {
            let part = Array(idx[chunk..<min(idx.count, chunk + batchSize)])
            let (z, c) = try tok.encodeWithSummary(try data.images(part, size: tok.imageSize))   // z [B, T, C]
            f.grid += Self.rows(z.reshaped([z.shape[0], z.shape[1] * z.shape[2]]))
            f.pooled += Self.rows(withNoGrad { z.mean(axis: 1) })
            if let c { f.cls += Self.rows(c) }
        }
        f.y = idx.map { data.dataset.label(at: $0) }
        return f
    }

    /// The rows of a [N, w] tensor.
    static func rows(_ t: Tensor) -> [[Float]] {
        let n = t.shape[0], w = t.count / max(1, n), a = t.array
        return (0..<n).map { Array(a[($0 * w)..<(($0 + 1) * w)]) }
    }
}
