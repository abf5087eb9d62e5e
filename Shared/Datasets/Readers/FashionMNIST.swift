import Foundation

/// Fashion-MNIST from Debian's `dataset-fashion-mnist` (IDX files, gzip): 60k train + 10k test,
/// 28x28 gray, 10 balanced classes.
public final class FashionMNIST: ImageDataset, @unchecked Sendable {
    public enum Part: String, Sendable { case train, test }

    public static let defaultRoot = "/usr/share/datasets/fashion-mnist"
    public static let classes = [
        "t-shirt", "trousers", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot",
    ]

    public let name: String
    public let part: Part
    public let resolution: Int
    public let channels: Int
    public let classNames = FashionMNIST.classes
    public let templates = CaptionTemplates.photo
    /// Raw 28x28 bytes. // [N, 28, 28]
    public let rawImages: [UInt8]
    public let labels: [UInt8]
    public let count: Int
    public static let side = 28

    /// Loads one part. `resolution` resizes (28 keeps the original); `rgb` replicates gray to 3 channels.
    public init(part: Part, root: String = FashionMNIST.defaultRoot, resolution: Int = 28, rgb: Bool = false) throws {
        guard resolution >= 4 && resolution <= 1024 else {
            throw DatasetError.invalidArgument(field: "resolution", message: "must be in 4...1024, got \(resolution)")
        }
        let prefix = part == .train ? "train" : "t10k"
        let imgs = try IDXFile.read(path: "\(root)/\(prefix)-images-idx3-ubyte.gz")
        let labs = try IDXFile.read(path: "\(root)/\(prefix)-labels-idx1-ubyte.gz")
        guard imgs.dimensions.count == 3, imgs.dimensions[1] == 28, imgs.dimensions[2] == 28 else {
            throw DatasetError.corrupt(path: root, message: "image dims \(imgs.dimensions), expected [N, 28, 28]")
        }
        guard labs.dimensions.count == 1, labs.dimensions[0] == imgs.dimensions[0] else {
            throw DatasetError.corrupt(path: root, message: "label count \(labs.dimensions) != image count \(imgs.dimensions[0])")
        }
        if let bad = labs.data.first(where: { $0 > 9 }) {
            throw DatasetError.corrupt(path: root, message: "label \(bad) outside 0...9")
        }
        self.part = part
        self.name = "fashion-mnist"
        self.resolution = resolution
        self.channels = rgb ? 3 : 1
        self.rawImages = imgs.data
        self.labels = labs.data
        self.count = imgs.dimensions[0]
    }

    public func label(at index: Int) -> Int {
        checkIndex(index)
        return Int(labels[index])
    }

    public func captions(at index: Int) -> [String] { templates.all(classNames[label(at: index)]) }

    public func image(at index: Int) throws -> ImageBuffer {
        checkIndex(index)
        let s = FashionMNIST.side
        let start = index * s * s
        var img = try ImageBuffer.fromBytes(Array(rawImages[start..<(start + s * s)]), width: s, height: s, channels: 1)
        if resolution != s { img = img.resized(to: resolution) }
        return channels == 3 ? img.rgb() : img
    }
}

/// IDX container (LeCun's MNIST format): big-endian magic, dims, then unsigned bytes.
public enum IDXFile {
    public struct Contents { public var dimensions: [Int]; public var data: [UInt8] }

    /// Reads an IDX file, gunzipping when the name ends in `.gz`.
    public static func read(path: String) throws -> Contents {
        guard let raw = FileManager.default.contents(atPath: path) else { throw DatasetError.notFound(path) }
        var bytes = [UInt8](raw)
        if path.hasSuffix(".gz") { bytes = try PNGCodec.gunzip(bytes) }
        return try parse(bytes, path: path)
    }

    /// Parses IDX bytes (only the unsigned-byte element type 0x08).
    public static func parse(_ bytes: [UInt8], path: String = "<memory>") throws -> Contents {
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw DatasetError.corrupt(path: path, message: "bad IDX magic")
        }
        guard bytes[2] == 0x08 else {
            throw DatasetError.corrupt(path: path, message: "element type 0x\(String(bytes[2], radix: 16)) unsupported (only 0x08)")
        }
        let nd = Int(bytes[3])
        guard bytes.count >= 4 + 4 * nd else { throw DatasetError.corrupt(path: path, message: "truncated header") }
        var dims: [Int] = []
        for d in 0..<nd {
            let o = 4 + 4 * d
            dims.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        let n = dims.reduce(1, *)
        let start = 4 + 4 * nd
        guard bytes.count - start == n else {
            throw DatasetError.corrupt(path: path, message: "payload \(bytes.count - start) bytes, header says \(n)")
        }
        return Contents(dimensions: dims, data: Array(bytes[start...]))
    }
}
