import Datasets
import Evaluation
import XCTest

final class FrechetDistanceTests: XCTestCase {
    /// Closed form for diagonal covariances: |mu1 - mu2|^2 + sum (s1 - s2)^2 (s = std devs).
    func testMatchesClosedFormForDiagonalGaussians() throws {
        var rng = SeededRNG(seed: 5)
        let d = 6, n = 4000
        let s1: [Float] = [1, 2, 0.5, 1, 3, 1], s2: [Float] = [1, 1, 1, 2, 3, 0.5]
        let m2: [Float] = [0.5, 0, 0, -1, 0, 0]
        let a = (0..<n).map { _ in (0..<d).map { s1[$0] * rng.normal() } }
        let b = (0..<n).map { _ in (0..<d).map { m2[$0] + s2[$0] * rng.normal() } }
        let sa = try GaussianStatistics(features: a), sb = try GaussianStatistics(features: b)
        // Closed form on the sample statistics' diagonals (off-diagonals are near zero).
        var expected = 0.0
        for j in 0..<d {
            expected += pow(sa.mean[j] - sb.mean[j], 2)
            expected += pow(sa.covariance[j * d + j].squareRoot() - sb.covariance[j * d + j].squareRoot(), 2)
        }
        let fd = try FrechetDistance.distance(sa, sb)
        XCTAssertEqual(fd, expected, accuracy: 0.05 * expected)
        XCTAssertEqual(try FrechetDistance.distance(sa, sa), 0, accuracy: 1e-8)
    }

    func testSymmetricSqrtSquaresBack() throws {
        // A random SPD matrix: its LAPACK square root squared gives it back.
        var rng = SeededRNG(seed: 2)
        let n = 20
        let x = (0..<(n * n)).map { _ in Double(rng.normal()) }
        var s = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { for k in 0..<n { s[i * n + j] += x[i * n + k] * x[j * n + k] } } }
        let r = try FrechetDistance.symmetricSqrt(s, n: n)
        for i in 0..<n { for j in 0..<n {
            var v = 0.0
            for k in 0..<n { v += r[i * n + k] * r[k * n + j] }
            XCTAssertEqual(v, s[i * n + j], accuracy: 1e-8 * max(1, abs(s[i * n + j])))
        } }
    }

    /// FD-EffNet on real data at a reduced resolution (64 px, 200 images per set, test speed):
    /// train vs test is far below train vs noise and train vs emoji; a set with itself is ~0.
    func testRealDataSanity() throws {
        let fx = try EffNetFeatureExtractor(resolution: 64, path: try TestSupport.modelsDir() + "/efficientnet_lite0.safetensors")
        let n = 200
        let train = SubsetDataset.random(try FashionMNIST(part: .train), count: n, seed: 1)
        let test = SubsetDataset.random(try FashionMNIST(part: .test), count: n, seed: 2)
        let emoji = SubsetDataset.random(try EmojiDataset(), count: n, seed: 3)
        var rng = SeededRNG(seed: 4)
        let noise = try (0..<n).map { _ in
            try ImageBuffer(width: 28, height: 28, channels: 1, pixels: (0..<784).map { _ in rng.uniform() })
        }
        let fTrain = try fx.features(of: train)
        let fTest = try fx.features(of: test)
        let fEmoji = try fx.features(of: emoji)
        let fNoise = fx.features(noise)
        let trainTest = try FrechetDistance.distance(fTrain, fTest)
        let trainNoise = try FrechetDistance.distance(fTrain, fNoise)
        let trainEmoji = try FrechetDistance.distance(fTrain, fEmoji)
        let selfFD = try FrechetDistance.distance(fTrain, fTrain)
        print("FD-EffNet@64 n=\(n): train/test \(trainTest), train/noise \(trainNoise), train/emoji \(trainEmoji), self \(selfFD)")
        XCTAssertLessThan(trainTest * 3, trainNoise)
        XCTAssertLessThan(trainTest * 3, trainEmoji)
        XCTAssertLessThan(selfFD, 1e-3 * trainTest)
    }
}
