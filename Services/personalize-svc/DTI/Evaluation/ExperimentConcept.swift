import ComputeCore
import Datasets
import Foundation

/// A concept of the experiment: views (small shifts, one mirror) of one `fmnist-color` test garment
/// in its colour — an item the generator never trained on.
public struct ExperimentConcept: Sendable {
    public struct Facts: Codable, Sendable {
        public var name: String
        public var testIndex: Int
        public var garment: String
        public var color: String
        public var classWord: String
    }
    public let name: String
    public let testIndex: Int
    public let classIndex: Int
    public let colorIndex: Int
    public let classWord: String
    /// [N] images, and their raw tokenizer latents [N, T, C].
    public let images: [ImageBuffer]
    public let latents: Tensor
    public var facts: Facts {
        Facts(name: name, testIndex: testIndex, garment: FashionMNISTColor.classSynonyms[classIndex][0],
              color: ColorPalette.colors[colorIndex].name, classWord: classWord)
    }

    /// MiniLM-vocabulary class words per Fashion-MNIST class ("pullover", "sandal", "sneaker" are not one word).
    public static let classWords = ["tee", "trousers", "sweater", "dress", "coat", "shoe", "shirt", "shoe", "bag", "boot"]

    /// `count` concepts from the test split, cycling through the garment classes, starting at item
    /// `offset` (tuning concepts use another offset); views: shifts by (0,0), (1,0), (0,1), (-1,0),
    /// (0,-1), … and a mirror. `encode`: the tokenizer's encoder (images -> raw latents [N, T, C]).
    public static func make(count: Int, views: Int, offset: Int, prefix: String, data: FashionMNISTColor,
                            encode: ([ImageBuffer]) throws -> Tensor) throws -> [ExperimentConcept] {
        var out: [ExperimentConcept] = []
        var used = Set<Int>()
        var i = offset
        while out.count < count {
            let wantClass = (out.count * 3 + offset) % 10
            while data.label(at: i) != wantClass || used.contains(i) { i = (i + 1) % data.count }
            used.insert(i)
            let (cls, col) = data.attributes(at: i)
            let img = try data.image(at: i)
            let shifts = [(0, 0), (1, 0), (0, 1), (-1, 0), (0, -1), (1, 1), (-1, -1), (1, -1)]
            let imgs = (0..<views).map { k in k == views - 1 && views > 2 ? mirrored(img) : shifted(img, shifts[k % shifts.count]) }
            out.append(ExperimentConcept(name: "<\(prefix)\(out.count)>", testIndex: i, classIndex: cls, colorIndex: col,
                                         classWord: classWords[cls], images: imgs, latents: try encode(imgs)))
        }
        return out
    }

    static func shifted(_ img: ImageBuffer, _ d: (Int, Int)) -> ImageBuffer {
        var out = ImageBuffer(width: img.width, height: img.height, channels: img.channels, fill: 0)
        for y in 0..<img.height {
            for x in 0..<img.width {
                let sx = x - d.0, sy = y - d.1
                guard sx >= 0 && sx < img.width && sy >= 0 && sy < img.height else { continue }
                for c in 0..<img.channels { out[x, y, c] = img[sx, sy, c] }
            }
        }
        return out
    }

    static func mirrored(_ img: ImageBuffer) -> ImageBuffer {
        var out = img
        for y in 0..<img.height { for x in 0..<img.width { for c in 0..<img.channels { out[x, y, c] = img[img.width - 1 - x, y, c] } } }
        return out
    }
}
