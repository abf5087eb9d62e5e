import ComputeCore
import Datasets
import Foundation
import Models

/// The shared evaluator of generated images (generator, distill, personalize, tokenizer
/// reports): gFD = FD-EffNet of the generated set against a real split, class accuracy by a
/// classifier trained on real `fmnist-color` images only, colour accuracy by the garment's hue
/// (`ColorPalette.classify`), each with a bootstrap spread. On a dataset whose prompts carry no
/// checkable attributes (`emoji`: `Options.gFDOnly`) it scores gFD alone.
///
/// Use: `let ev = try GenerationEvaluator(options: .standard, cache: cache)` once (the real
/// split's feature statistics and the classifier come from `cache`, computed and stored on the
/// first use), then `try ev.evaluate(images, attributes: attrs)` for any images with the
/// (class, colour) each was prompted with (`GenerationPrompts.fmnistColor` builds such prompts).
/// Images are RGB in [0, 1], any size (resized for each judge).
public final class GenerationEvaluator: @unchecked Sendable {
    /// Evaluator knobs (fixed before scoring; none is tuned on generated images).
    public struct Options: Codable, Sendable, Equatable {
        /// EfficientNet-Lite0 input resolution for gFD.
        public var fdResolution = 96
        /// Real split behind gFD and the classifier's reported accuracy.
        public var referenceDataset = "fmnist-color-test"
        /// Real split the class judge is trained on (never generated images); nil: no attribute
        /// judges (gFD only, `evaluate` takes no attributes).
        public var trainDataset: String? = "fmnist-color"
        /// Real images for the reference statistics (0 = the whole split).
        public var referenceImages = 0
        /// Bootstrap replicates for accuracies and for gFD.
        public var accuracyBootstrap = 1000
        public var fdBootstrap = 10
        public var seed: UInt64 = 0
        public var classifier = GarmentClassifier.Config()
        public var classifierPlan = GarmentClassifier.TrainingPlan.standard
        public var batchSize = 32
        public init() {}
        /// The committed reports' setting: whole test split, full classifier.
        public static var standard: Options { Options() }
        /// Seconds-scale setting for tests and quick plans (small reference, tiny judge, 32 px FD).
        public static var quick: Options {
            var o = Options(); o.fdResolution = 32; o.referenceImages = 120; o.accuracyBootstrap = 200; o.fdBootstrap = 2
            o.classifier = .tiny; o.classifierPlan = .quick; return o
        }
        /// `base` scoring gFD alone against the whole of `dataset` (a catalog name, read at 32 px):
        /// for data without a held-out test split or checkable prompt attributes (`emoji`).
        public static func gFDOnly(_ dataset: String, base: Options) -> Options {
            var o = base; o.referenceDataset = dataset; o.trainDataset = nil; return o
        }
    }

    public let options: Options
    public let effnet: EffNetFeatureExtractor
    public let reference: FrechetReference
    /// The class judge (nil for a gFD-only evaluator).
    public let judge: GarmentClassifier.Trained?

    /// Prepares the reference statistics and the class judge (each from `cache` when present).
    /// - effnetPath: the EfficientNet-Lite0 weights (default: the models directory).
    public init(options: Options = .standard, cache: EvaluationCache, effnetPath: String? = nil,
                log: (String) -> Void = { _ in }, progress: (Int, Int) -> Void = { _, _ in }) throws {
        guard options.referenceImages >= 0, options.fdBootstrap >= 0, options.accuracyBootstrap >= 0, options.batchSize >= 1 else {
            throw EvaluationError.invalidArgument(field: "options", message: "counts must be >= 0 and batchSize >= 1")
        }
        self.options = options
        effnet = try EffNetFeatureExtractor(resolution: options.fdResolution, path: effnetPath)
        let test = try DatasetCatalog.open(options.referenceDataset, resolution: 32, rgb: true)
        let n = options.referenceImages > 0 ? min(options.referenceImages, test.count) : test.count
        let weights = try effnetPath ?? ModelLocator.file("efficientnet_lite0.safetensors")
        let size = (try? FileManager.default.attributesOfItem(atPath: weights)[.size] as? Int) ?? 0
        let key = EvaluationCache.key("fd-reference", ["v1", test.name, String(test.count), String(n), String(options.fdResolution),
                                                       "efficientnet_lite0", String(size)])
        if let url = try cache.lookup(key), let r = try? FrechetReference(path: url.path), r.statistics.count == n {
            log("gFD reference \(key) from the cache (\(n) \(test.name) images)")
            reference = r
        } else {
            log("gFD reference: EfficientNet-Lite0 features of \(n) \(test.name) images at \(options.fdResolution) px")
            var feats: [[Float]] = []
            var start = 0
            while start < n {
                let idx = Array(start..<min(n, start + options.batchSize))
                feats += effnet.features(try test.images(at: idx), batchSize: options.batchSize)
                start += idx.count
                progress(start, n)
            }
            reference = try FrechetReference(try GaussianStatistics(features: feats))
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("\(key)-\(UUID().uuidString).safetensors")
            defer { try? FileManager.default.removeItem(at: tmp) }
            try reference.save(to: tmp.path, metadata: ["dataset": test.name, "fd_resolution": String(options.fdResolution)])
            try cache.save(key, tmp, "fd-reference")
        }
        if let name = options.trainDataset {
            let train = try DatasetCatalog.open(name, resolution: 32, rgb: true)
            judge = try GarmentClassifier.trained(config: options.classifier, plan: options.classifierPlan, train: train, test: test,
                                                  cache: cache, log: log)
        } else {
            judge = nil
        }
    }

    /// Scores `images`, image i having been prompted with `attributes[i]` (nil, and only nil, for a
    /// gFD-only evaluator: its accuracies are NaN and left out of `dictionary`). Needs >= 2 images.
    /// `progress(done, total)` follows the feature extraction.
    public func evaluate(_ images: [ImageBuffer], attributes: [PromptAttributes]?,
                         progress: (Int, Int) -> Void = { _, _ in }) throws -> GenerationMetrics {
        let t0 = Date()
        guard images.count >= 2 else {
            throw EvaluationError.invalidArgument(field: "images", message: "need at least 2 images, got \(images.count)")
        }
        guard let judge else {
            guard attributes == nil else {
                throw EvaluationError.invalidArgument(field: "attributes", message: "this evaluator scores gFD only (reference \(options.referenceDataset)); pass none")
            }
            let fd = try gFD(images.map { $0.rgb() }, progress: progress)
            let none = Estimate(value: .nan, low: .nan, high: .nan, std: .nan, replicates: 0)
            return GenerationMetrics(
                images: images.count, referenceImages: reference.statistics.count, referenceDataset: options.referenceDataset,
                fdResolution: options.fdResolution, gFD: fd, classAccuracy: none, colorAccuracy: none, bothAccuracy: none,
                colorless: 0, classifierTestAccuracy: .nan, classifierTestImages: 0, seconds: Date().timeIntervalSince(t0))
        }
        guard let attributes else {
            throw EvaluationError.invalidArgument(field: "attributes", message: "need one per image (\(images.count)) for the class and colour judges")
        }
        guard attributes.count == images.count else {
            throw EvaluationError.invalidArgument(field: "attributes", message: "need one per image (\(images.count)), got \(attributes.count)")
        }
        for (i, a) in attributes.enumerated() {
            guard (0..<judge.classifier.config.classes).contains(a.classIndex) else {
                throw EvaluationError.invalidArgument(field: "attributes[\(i)].classIndex", message: "must be in 0..<\(judge.classifier.config.classes), got \(a.classIndex)")
            }
            guard ColorPalette.colors.indices.contains(a.colorIndex) else {
                throw EvaluationError.invalidArgument(field: "attributes[\(i)].colorIndex", message: "must be in 0..<\(ColorPalette.colors.count), got \(a.colorIndex)")
            }
        }
        let rgb = images.map { $0.rgb() }
        // Prompt-attribute accuracy.
        let classes = judge.classifier.predict(rgb)
        let colors = rgb.map { ColorPalette.classify($0) }
        let classOK = zip(classes, attributes).map { $0.0 == $0.1.classIndex ? 1.0 : 0.0 }
        let colorOK = zip(colors, attributes).map { $0.0 == $0.1.colorIndex ? 1.0 : 0.0 }
        let bothOK = zip(classOK, colorOK).map { $0.0 * $0.1 }
        let b = options.accuracyBootstrap, s = options.seed
        let fd = try gFD(rgb, progress: progress)
        return GenerationMetrics(
            images: images.count, referenceImages: reference.statistics.count, referenceDataset: options.referenceDataset,
            fdResolution: options.fdResolution, gFD: fd,
            classAccuracy: Bootstrap.mean(classOK, replicates: b, seed: SeededRNG.derive(s, 1)),
            colorAccuracy: Bootstrap.mean(colorOK, replicates: b, seed: SeededRNG.derive(s, 2)),
            bothAccuracy: Bootstrap.mean(bothOK, replicates: b, seed: SeededRNG.derive(s, 3)),
            colorless: colors.filter { $0 == nil }.count, classifierTestAccuracy: judge.testAccuracy,
            classifierTestImages: judge.testImages, seconds: Date().timeIntervalSince(t0))
    }

    /// gFD of RGB images against the reference, with a bootstrap over the generated images.
    func gFD(_ rgb: [ImageBuffer], progress: (Int, Int) -> Void) throws -> Estimate {
        var feats: [[Float]] = []
        var start = 0
        while start < rgb.count {
            let end = min(rgb.count, start + options.batchSize)
            feats += effnet.features(Array(rgb[start..<end]), batchSize: options.batchSize)
            start = end
            progress(start, rgb.count)
        }
        let fd = try reference.distance(to: try GaussianStatistics(features: feats))
        var rng = SeededRNG(seed: SeededRNG.derive(options.seed, 0xfd))
        let reps = try (0..<options.fdBootstrap).map { _ in
            try reference.distance(to: try GaussianStatistics(features: Bootstrap.resample(feats.count, rng: &rng).map { feats[$0] }))
        }
        return Estimate.from(value: fd, replicates: reps)
    }
}
