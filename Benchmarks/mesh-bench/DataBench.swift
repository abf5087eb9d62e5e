import Datasets
import Evaluation
import Foundation
import Models

/// `mesh-bench data`: MiniLM sentences/s, EfficientNet-Lite0 images/s (224 px) and the wall time
/// of a 10k-image FD-EffNet (features of 10,000 Fashion-MNIST test images + Fréchet distance
/// against reference statistics of training images, whose features are not timed).
/// Prints human lines, then one JSON line: minilm_sent_per_s, effnet_img_per_s, fd_10k_s.
public enum DataBench {
    struct Options {
        var repetitions = 5
        var sentences = 64
        var images = 32
        var fdImages = 10_000
        var referenceImages = 2_000
        var resolution = EfficientNetLite0.trainedResolution
    }

    public static func run(arguments: [String]) throws {
        var o = Options()
        var i = 0
        func value(_ name: String) throws -> Int {
            guard i + 1 < arguments.count, let v = Int(arguments[i + 1]), v > 0 else {
                throw ModelError.invalidArgument(field: name, message: "needs a positive integer")
            }
            i += 1
            return v
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--repetitions": o.repetitions = try value("--repetitions")
            case "--sentences": o.sentences = try value("--sentences")
            case "--images": o.images = try value("--images")
            case "--fd-images": o.fdImages = min(try value("--fd-images"), 10_000)
            case "--reference-images": o.referenceImages = try value("--reference-images")
            case "--resolution": o.resolution = try value("--resolution")
            case "--quick": o.repetitions = 3; o.fdImages = 1_000; o.referenceImages = 500
            default: throw ModelError.invalidArgument(field: arguments[i], message: "unknown option; use --repetitions, --sentences, --images, --fd-images, --reference-images, --resolution, --quick")
            }
            i += 1
        }
        print("data bench: repetitions \(o.repetitions) (median, after 1 warm-up), effnet resolution \(o.resolution)")

        // MiniLM: a fixed set of varied sentences.
        let enc = try MiniLMEncoder()
        let emoji = try EmojiDataset()
        let texts = (0..<o.sentences).map { k -> String in
            let caps = emoji.captions(at: (k * 37) % emoji.count)
            return caps[k % caps.count] + (k % 3 == 0 ? ", shown on a plain white background in a small picture" : "")
        }
        let minilmTimes = try measure(o.repetitions) { _ = enc.embed(texts) }
        let sentPerS = Double(o.sentences) / median(minilmTimes)
        print(String(format: "minilm: %d sentences in %.3f s median -> %.1f sentences/s", o.sentences, median(minilmTimes), sentPerS))

        // EfficientNet-Lite0 on emoji at the trained resolution.
        let fx = try EffNetFeatureExtractor(resolution: o.resolution)
        let imgs = try emoji.images(at: Array(0..<o.images))
        let effTimes = try measure(o.repetitions) { _ = fx.features(imgs, batchSize: 16) }
        let imgPerS = Double(o.images) / median(effTimes)
        print(String(format: "effnet: %d images in %.3f s median -> %.1f images/s", o.images, median(effTimes), imgPerS))

        // FD-10k: reference statistics untimed, then features + FD timed once.
        let train = SubsetDataset.random(try FashionMNIST(part: .train), count: o.referenceImages, seed: 1)
        let ref = try GaussianStatistics(features: try fx.features(of: train, batchSize: 16))
        let test = SubsetDataset.random(try FashionMNIST(part: .test), count: o.fdImages, seed: 2)
        let t0 = Date()
        let feats = try fx.features(of: test, batchSize: 16)
        let fd = try FrechetDistance.distance(ref, try GaussianStatistics(features: feats))
        let fdSecs = Date().timeIntervalSince(t0)
        print(String(format: "fd: %d images vs %d-image reference statistics: FD %.3f in %.1f s", o.fdImages, o.referenceImages, fd, fdSecs))

        let result: [String: Any] = [
            "minilm_sent_per_s": round2(sentPerS), "effnet_img_per_s": round2(imgPerS), "fd_10k_s": round2(fdSecs),
            "fd_images": o.fdImages, "effnet_resolution": o.resolution, "fd_value": round2(fd),
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }

    static func measure(_ reps: Int, _ body: () throws -> Void) throws -> [Double] {
        try body()  // warm-up
        return try (0..<reps).map { _ in
            let t = Date()
            try body()
            return Date().timeIntervalSince(t)
        }
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
}
