import Foundation

/// One image with its class label (-1 when unlabeled) and caption.
public struct LabeledImage: Sendable {
    public var image: ImageBuffer
    public var label: Int
    public var caption: String
}

/// The single reader interface every dataset implements: random access by index,
/// images already resized to `resolution` x `resolution`.
public protocol ImageDataset: Sendable {
    /// Short identifier, e.g. "fashion-mnist".
    var name: String { get }
    /// Number of items.
    var count: Int { get }
    /// Class names indexed by label (empty when the dataset has no labels).
    var classNames: [String] { get }
    /// Output side length in pixels.
    var resolution: Int { get }
    /// Output channels (1 or 3).
    var channels: Int { get }
    /// Prompt templates that turn a class name into a caption ("a photo of a {class}").
    var templates: CaptionTemplates { get }
    /// Class label of item `index` (-1 if unlabeled); cheap, no image decoding.
    func label(at index: Int) -> Int
    /// Every caption variant of item `index`; the first is the canonical one.
    func captions(at index: Int) -> [String]
    /// Decoded, resized image of item `index`.
    func image(at index: Int) throws -> ImageBuffer
}

extension ImageDataset {
    /// Canonical caption of item `index`.
    public func caption(at index: Int) -> String { captions(at: index).first ?? "" }

    /// Image, label and canonical caption of item `index`.
    public func sample(at index: Int) throws -> LabeledImage {
        LabeledImage(image: try image(at: index), label: label(at: index), caption: caption(at: index))
    }

    /// Images at `indices`.
    public func images(at indices: [Int]) throws -> [ImageBuffer] { try indices.map { try image(at: $0) } }

    /// Number of items per label (index = label); unlabeled items are not counted.
    public func labelCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for i in 0..<count {
            let l = label(at: i)
            if l >= 0 && l < counts.count { counts[l] += 1 }
        }
        return counts
    }

    func checkIndex(_ index: Int) {
        precondition(index >= 0 && index < count, "index \(index) out of range 0..<\(count) for \(name)")
    }
}
