import ComputeCore
import Datasets
import XCTest

final class DatasetTests: XCTestCase {
    func testFashionMNISTCountsBalanceAndCaptions() throws {
        let train = try FashionMNIST(part: .train)
        let test = try FashionMNIST(part: .test)
        XCTAssertEqual(train.count, 60000)
        XCTAssertEqual(test.count, 10000)
        XCTAssertEqual(train.labelCounts(), [Int](repeating: 6000, count: 10))
        XCTAssertEqual(test.labelCounts(), [Int](repeating: 1000, count: 10))
        let img = try test.image(at: 0)
        XCTAssertEqual([img.width, img.height, img.channels], [28, 28, 1])
        XCTAssertEqual(test.label(at: 0), 9)  // the first test item is an ankle boot
        XCTAssertEqual(test.caption(at: 0), "a photo of a ankle boot")
        XCTAssertTrue(test.captions(at: 0).contains("a black and white photo of a ankle boot"))
        let big = try FashionMNIST(part: .test, resolution: 32, rgb: true).image(at: 0)
        XCTAssertEqual([big.width, big.height, big.channels], [32, 32, 3])
        XCTAssertThrowsError(try FashionMNIST(part: .test, resolution: 2)) { XCTAssertTrue("\($0)".contains("resolution")) }
    }

    func testEmojiCaptionsFromNameKeywordsAndCategory() throws {
        let ds = try EmojiDataset(resolution: 32)
        XCTAssertEqual(ds.count, 1794)
        XCTAssertEqual(ds.classNames.count, 10)
        XCTAssertEqual(ds.labelCounts().reduce(0, +), 1794)
        let i = try XCTUnwrap(ds.entries.firstIndex { $0.shortname == "8ball" })
        let caps = ds.captions(at: i)
        XCTAssertEqual(caps[0], "an emoji of billiards")
        XCTAssertTrue(caps.contains { $0.contains("pool") }, "\(caps)")
        XCTAssertTrue(caps.contains { $0.contains("activity") }, "\(caps)")
        XCTAssertEqual(ds.classNames[ds.label(at: i)], "activity")
        let img = try ds.image(at: i)
        XCTAssertEqual([img.width, img.height, img.channels], [32, 32, 3])
        XCTAssertEqual(img[0, 0, 0], 1, accuracy: 1e-5)  // transparent corner on white
    }

    func testOpenClipartFolderLabels() throws {
        let ds = try OpenClipartDataset(resolution: 32)
        XCTAssertGreaterThan(ds.count, 8000)
        XCTAssertTrue(ds.classNames.contains("animals"))
        XCTAssertTrue(ds.classNames.contains("food"))
        let i = try XCTUnwrap(ds.files.firstIndex { $0.hasPrefix("animals/birds/") })
        XCTAssertEqual(ds.classNames[ds.label(at: i)], "animals")
        XCTAssertEqual(ds.caption(at: i), "a clip art of animals")
        XCTAssertTrue(ds.captions(at: i).contains("a drawing of birds, animals"), "\(ds.captions(at: i))")
        let img = try ds.image(at: i)
        XCTAssertEqual([img.width, img.height], [32, 32])
    }

    func testUserFolderWithMetadata() throws {
        let dir = TestSupport.tempDir()
        let red = try ImageBuffer(width: 8, height: 6, channels: 3, pixels: (0..<(48)).flatMap { _ in [Float(1), 0, 0] })
        try PNGCodec.write(red, to: dir + "/red.png")
        try PNGCodec.write(red.gray(), to: dir + "/gray.png")
        try "{\"file_name\": \"red.png\", \"text\": \"a red square\"}\n{\"file_name\": \"gray.png\", \"text\": \"a gray one\"}\n"
            .write(toFile: dir + "/metadata.jsonl", atomically: true, encoding: .utf8)
        let ds = try ImageFolderDataset(root: dir, resolution: 16)
        XCTAssertEqual(ds.count, 2)
        XCTAssertEqual(ds.caption(at: 0), "a red square")
        XCTAssertEqual(ds.label(at: 1), -1)
        let img = try ds.image(at: 0)
        XCTAssertEqual([img.width, img.height], [16, 16])
        XCTAssertEqual(img[8, 8, 0], 1, accuracy: 1e-5)
        XCTAssertEqual(img[8, 8, 1], 0, accuracy: 1e-5)
        XCTAssertEqual(img[8, 0, 1], 1, accuracy: 1e-5)  // padded with white above the 8x6 picture
        try "{\"file_name\": \"red.png\"}\n".write(toFile: dir + "/metadata.jsonl", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ImageFolderDataset(root: dir)) { XCTAssertTrue("\($0)".contains("text"), "\($0)") }
    }

    func testSplitsAreDeterministicDisjointAndStratified() throws {
        let ds = try FashionMNIST(part: .test)
        let t1 = try DatasetSplit.indices(of: ds, part: .train, validationFraction: 0.2, seed: 3)
        let t2 = try DatasetSplit.indices(of: ds, part: .train, validationFraction: 0.2, seed: 3)
        let v = try DatasetSplit.indices(of: ds, part: .validation, validationFraction: 0.2, seed: 3)
        let other = try DatasetSplit.indices(of: ds, part: .validation, validationFraction: 0.2, seed: 4)
        XCTAssertEqual(t1, t2)
        XCTAssertEqual(t1.count + v.count, ds.count)
        XCTAssertTrue(Set(t1).isDisjoint(with: Set(v)))
        XCTAssertNotEqual(v, other)
        let val = try DatasetSplit.split(ds, part: .validation, validationFraction: 0.2, seed: 3)
        XCTAssertEqual(val.labelCounts(), [Int](repeating: 200, count: 10))
        XCTAssertThrowsError(try DatasetSplit.indices(of: ds, part: .train, validationFraction: 1.5))
    }

    func testBatchSamplerIsReproducibleAndCoversEveryItem() throws {
        let s = try BatchSampler(count: 103, batchSize: 10, seed: 42)
        XCTAssertEqual(s.batchesPerEpoch, 11)
        let e0 = s.batches(epoch: 0)
        XCTAssertEqual(e0, try BatchSampler(count: 103, batchSize: 10, seed: 42).batches(epoch: 0))
        XCTAssertEqual(e0.flatMap { $0 }.sorted(), Array(0..<103))
        XCTAssertNotEqual(e0, s.batches(epoch: 1))
        XCTAssertNotEqual(e0.flatMap { $0 }, Array(0..<103), "shuffled")
        XCTAssertEqual(s.batch(step: 12), s.batches(epoch: 1)[1])
        let dl = try BatchSampler(count: 103, batchSize: 10, seed: 42, dropLast: true)
        XCTAssertTrue(dl.batches(epoch: 0).allSatisfy { $0.count == 10 })
        XCTAssertThrowsError(try BatchSampler(count: 10, batchSize: 0)) { XCTAssertTrue("\($0)".contains("batchSize")) }
    }

    func testAugmentationsProduceValidViews() throws {
        let img = try EmojiDataset(resolution: 64).image(at: 100)
        let mc = try MultiCropAugmentation(globalSize: 32, localSize: 16, globalCount: 2, localCount: 3)
        var rng = SeededRNG(seed: 1)
        let (g, l) = mc.views(img, rng: &rng)
        XCTAssertEqual(g.count, 2)
        XCTAssertEqual(l.count, 3)
        XCTAssertTrue(g.allSatisfy { $0.width == 32 && $0.height == 32 && $0.channels == 3 })
        XCTAssertTrue(l.allSatisfy { $0.width == 16 })
        XCTAssertTrue((g + l).allSatisfy { $0.pixels.allSatisfy { $0 >= 0 && $0 <= 1 } })
        XCTAssertNotEqual(g[0].pixels, g[1].pixels)
        var rngA = SeededRNG(seed: 9), rngB = SeededRNG(seed: 9)
        XCTAssertEqual(mc.views(img, rng: &rngA).global[0].pixels, mc.views(img, rng: &rngB).global[0].pixels)
        // Flip is an involution; full-scale crop of a square image is a resize.
        XCTAssertEqual(img.flippedHorizontally().flippedHorizontally(), img)
        let full = try RandomResizedCrop(size: 64, scale: 1...1, ratio: 1...1)
        var r = SeededRNG(seed: 0)
        XCTAssertEqual(full.apply(img, rng: &r), img)
        XCTAssertThrowsError(try RandomResizedCrop(size: 8, scale: 0...1)) { XCTAssertTrue("\($0)".contains("scale")) }
    }

    func testResizeAveragesWhenShrinking() throws {
        // A 1-pixel checkerboard shrunk by 4 becomes uniform mid-gray.
        var px = [Float](repeating: 0, count: 64 * 64)
        for y in 0..<64 { for x in 0..<64 where (x + y) % 2 == 0 { px[y * 64 + x] = 1 } }
        let small = try ImageBuffer(width: 64, height: 64, channels: 1, pixels: px).resized(to: 16)
        for v in small.pixels { XCTAssertEqual(v, 0.5, accuracy: 0.02) }
    }

    func testBatchTensorRoundTrip() throws {
        let imgs = try EmojiDataset(resolution: 16).images(at: [1, 2, 3])
        let t = try ImageBuffer.batchTensor(imgs)
        XCTAssertEqual(t.shape, [3, 3, 16, 16])
        XCTAssertEqual(t.array[16 * 16 + 5], imgs[0][5, 0, 1])  // channel 1, row 0, column 5
        let back = try ImageBuffer.images(from: t)
        XCTAssertEqual(back.count, 3)
        for (a, b) in zip(back, imgs) {
            XCTAssertEqual([a.width, a.height, a.channels], [b.width, b.height, b.channels])
            XCTAssertLessThan(zip(a.pixels, b.pixels).map { abs($0 - $1) }.max()!, 1e-5)
        }
        XCTAssertThrowsError(try ImageBuffer.batchTensor([imgs[0], imgs[0].gray()]))
    }
}
