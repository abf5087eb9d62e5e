import ComputeCore
import Datasets
import Foundation

/// Training the class judge on real images: AdamW on cross-entropy, the epoch kept is the one
/// with the best accuracy on a held-out validation part of the TRAIN split (the knob is never
/// chosen on the scored split); its accuracy on the real TEST split is reported with it.
extension GarmentClassifier {
    /// How the judge is trained.
    public struct TrainingPlan: Codable, Sendable, Equatable {
        /// Training images drawn from the train part (0 = all of it after the validation hold-out).
        public var trainImages = 0
        /// Held-out share of the train split used to choose the epoch.
        public var validationFraction = 0.1
        public var epochs = 4
        public var batchSize = 64
        public var learningRate: Float = 2e-3
        /// Test-split images for the reported accuracy (0 = all).
        public var testImages = 0
        public var seed: UInt64 = 0
        public init() {}
        /// The full judge (all of fmnist-color's train part, the whole test split).
        public static var standard: TrainingPlan { TrainingPlan() }
        /// A judge trained in seconds on a small subset (tests, quick report plans).
        public static var quick: TrainingPlan {
            var p = TrainingPlan(); p.trainImages = 480; p.epochs = 3; p.batchSize = 32; p.testImages = 300; return p
        }
        var json: String { String(data: try! JSONEncoder.sorted.encode(self), encoding: .utf8)! }
    }

    /// A trained judge with its held-out accuracies.
    public struct Trained: @unchecked Sendable {
        public let classifier: GarmentClassifier
        /// Accuracy on the validation hold-out of the train split (chose the epoch).
        public let validationAccuracy: Double
        /// Accuracy on real test-split images (reported; the ceiling of class accuracy).
        public let testAccuracy: Double
        public let testImages: Int
        public let trainImages: Int
        /// Whether it came from the cache.
        public let cached: Bool
    }

    /// Trains a judge on `train` (real images) and scores it on `test`.
    public static func train(config: Config = Config(), plan: TrainingPlan, train: any ImageDataset, test: any ImageDataset,
                             log: (String) -> Void = { _ in }) throws -> Trained {
        guard plan.epochs >= 1, plan.batchSize >= 1, plan.trainImages >= 0, plan.testImages >= 0 else {
            throw EvaluationError.invalidArgument(field: "plan", message: "epochs and batchSize must be >= 1, image counts >= 0")
        }
        var trainIdx = try DatasetSplit.indices(of: train, part: .train, validationFraction: plan.validationFraction, seed: plan.seed)
        let valIdx = try DatasetSplit.indices(of: train, part: .validation, validationFraction: plan.validationFraction, seed: plan.seed)
        var rng = SeededRNG(seed: SeededRNG.derive(plan.seed, 1))
        if plan.trainImages > 0 && plan.trainImages < trainIdx.count {
            trainIdx.shuffle(using: &rng)
            trainIdx = Array(trainIdx.prefix(plan.trainImages))
        }
        let valUse = plan.trainImages > 0 ? Array(valIdx.prefix(max(100, plan.trainImages / 4))) : valIdx
        let testIdx = Array(0..<(plan.testImages > 0 ? min(plan.testImages, test.count) : test.count))
        let model = try GarmentClassifier(config: config, seed: plan.seed)
        // Inputs are computed once (a 32 px judge input is 4 KiB: 54k training images take ~220 MB).
        let r2 = config.resolution * config.resolution
        let inputs = try model.inputs(of: train, indices: trainIdx)              // [N, 1, R, R]
        let labels = trainIdx.map { train.label(at: $0) }
        let valInputs = try model.inputs(of: train, indices: valUse), valLabels = valUse.map { train.label(at: $0) }
        let opt = AdamW(model.parameters(), lr: plan.learningRate, betas: (0.9, 0.999), weightDecay: 1e-4)
        var best: (acc: Double, state: [String: Tensor]) = (-1, [:])
        var order = Array(0..<trainIdx.count)
        for epoch in 1...plan.epochs {
            order.shuffle(using: &rng)
            var start = 0, lossSum = 0.0, batches = 0
            while start < order.count {
                let part = Array(order[start..<min(order.count, start + plan.batchSize)])
                let x = Tensor(uninitialized: [part.count, 1, config.resolution, config.resolution])
                for (b, i) in part.enumerated() { (x.ptr + b * r2).update(from: inputs.ptr + i * r2, count: r2) }
                let loss = Tensor.crossEntropy(model(x), targets: part.map { labels[$0] })
                loss.backward()
                opt.step()
                model.zeroGrad()
                lossSum += Double(loss.item); batches += 1
                start += part.count
            }
            let acc = Double(zip(model.predictions(valInputs), valLabels).filter { $0.0 == $0.1 }.count) / Double(max(1, valUse.count))
            log(String(format: "garment classifier epoch %d/%d: loss %.4f, validation accuracy %.4f", epoch, plan.epochs,
                       lossSum / Double(max(batches, 1)), acc))
            if acc > best.acc { best = (acc, model.stateDict().mapValues { $0.copy() }) }
        }
        try model.load(best.state)
        let testAcc = try model.accuracy(on: test, indices: testIdx)
        log(String(format: "garment classifier: test accuracy %.4f on %d real test images", testAcc, testIdx.count))
        return Trained(classifier: model, validationAccuracy: best.acc, testAccuracy: testAcc, testImages: testIdx.count,
                       trainImages: trainIdx.count, cached: false)
    }

    /// The judge for (config, plan, datasets) from `cache`, trained and stored there on a miss.
    public static func trained(config: Config = Config(), plan: TrainingPlan, train: any ImageDataset, test: any ImageDataset,
                               cache: EvaluationCache, log: (String) -> Void = { _ in }) throws -> Trained {
        let key = EvaluationCache.key("garment-classifier", ["v1", config.json, plan.json, train.name, String(train.count),
                                                             test.name, String(test.count)])
        if let url = try cache.lookup(key), let (c, meta) = try? GarmentClassifier.load(from: url.path),
           let v = meta["validation_accuracy"].flatMap(Double.init), let t = meta["test_accuracy"].flatMap(Double.init),
           let tn = meta["test_images"].flatMap(Int.init), let trn = meta["train_images"].flatMap(Int.init) {
            log("garment classifier \(key) from the cache (test accuracy \(String(format: "%.4f", t)))")
            return Trained(classifier: c, validationAccuracy: v, testAccuracy: t, testImages: tn, trainImages: trn, cached: true)
        }
        let r = try Self.train(config: config, plan: plan, train: train, test: test, log: log)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("\(key)-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try r.classifier.save(to: tmp.path, metadata: [
            "validation_accuracy": String(r.validationAccuracy), "test_accuracy": String(r.testAccuracy),
            "test_images": String(r.testImages), "train_images": String(r.trainImages),
            "train_dataset": train.name, "test_dataset": test.name, "plan": plan.json,
        ])
        try cache.save(key, tmp, "garment-classifier")
        return r
    }
}
