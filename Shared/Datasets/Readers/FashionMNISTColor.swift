import Foundation

/// `fmnist-color`: Fashion-MNIST at 32 px RGB, each garment tinted with one of the eight
/// `ColorPalette` colours, chosen deterministically per image (a hash of part and index), with
/// captions naming colour and garment from several templates and synonyms ("a red dress",
/// "a photo of a crimson gown", …). The (class, colour) attributes are kept for evaluation:
/// prompts whose content a classifier and a hue check can verify (METHODS.md, "How a claim is
/// measured").
public final class FashionMNISTColor: ImageDataset, @unchecked Sendable {
    /// Garment words per Fashion-MNIST class; the first is the canonical one.
    public static let classSynonyms: [[String]] = [
        ["t-shirt", "tee"], ["trousers", "pants"], ["pullover", "sweater"], ["dress", "gown"],
        ["coat", "jacket"], ["sandal", "summer sandal"], ["shirt", "blouse"], ["sneaker", "running shoe"],
        ["bag", "handbag"], ["ankle boot", "boot"],
    ]
    /// Training caption templates with `{color}` and `{class}`; an article before `{color}` is chosen
    /// to match the word ("an orange bag"). The first gives the canonical caption.
    public static let captionTemplates = [
        "a {color} {class}", "a photo of a {color} {class}", "a picture of a {color} {class}",
        "a {class} in {color}", "a low resolution photo of a {color} {class}", "{color} {class}",
    ]
    /// Wordings never used in training captions (zero-shot style prompts for evaluation).
    public static let heldOutTemplates = ["an image of a {color} {class}", "a {color} colored {class}"]

    public let name: String
    public let part: FashionMNIST.Part
    public let resolution: Int
    public let channels = 3
    public let classNames = FashionMNIST.classes
    public let templates = CaptionTemplates(["a {class}"])
    public var count: Int { base.count }
    let base: FashionMNIST

    /// Loads one part of Fashion-MNIST and tints it; `resolution` defaults to 32.
    public init(part: FashionMNIST.Part, root: String = FashionMNIST.defaultRoot, resolution: Int = 32) throws {
        base = try FashionMNIST(part: part, root: root, resolution: resolution, rgb: false)
        self.part = part
        self.resolution = resolution
        self.name = part == .train ? "fmnist-color" : "fmnist-color-test"
    }

    public func label(at index: Int) -> Int { base.label(at: index) }

    /// Palette index of item `index`: SplitMix64 of (part, index), so it never depends on load order.
    public func colorIndex(at index: Int) -> Int {
        checkIndex(index)
        var z = UInt64(index) &+ (part == .train ? 0 : 0x5555_0000_0000) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(ColorPalette.colors.count))
    }

    /// (garment class, palette colour) of item `index`.
    public func attributes(at index: Int) -> (classIndex: Int, colorIndex: Int) {
        (label(at: index), colorIndex(at: index))
    }

    /// Every caption of item `index`: templates x colour synonyms x class synonyms; the first is
    /// the canonical "a {color} {class}".
    public func captions(at index: Int) -> [String] {
        let (c, k) = attributes(at: index)
        return FashionMNISTColor.captions(classIndex: c, colorIndex: k)
    }

    /// The training captions of one (class, colour) pair, canonical first.
    public static func captions(classIndex: Int, colorIndex: Int) -> [String] {
        var out: [String] = []
        for t in captionTemplates {
            for col in ColorPalette.colors[colorIndex].synonyms {
                for cls in classSynonyms[classIndex] { out.append(render(t, color: col, garment: cls)) }
            }
        }
        return out
    }

    /// The canonical prompt for (class, colour), e.g. "a red dress".
    public static func prompt(classIndex: Int, colorIndex: Int, template: String = captionTemplates[0]) -> String {
        render(template, color: ColorPalette.colors[colorIndex].name, garment: classSynonyms[classIndex][0])
    }

    /// Fills a template, turning "a {color}" into "an orange" where the word starts with a vowel.
    public static func render(_ template: String, color: String, garment: String) -> String {
        var s = template
        if let first = color.first, "aeiou".contains(first) { s = s.replacingOccurrences(of: "a {color}", with: "an {color}") }
        if let first = garment.first, "aeiou".contains(first) { s = s.replacingOccurrences(of: "a {class}", with: "an {class}") }
        return s.replacingOccurrences(of: "{color}", with: color).replacingOccurrences(of: "{class}", with: garment)
    }

    /// The gray garment (white on black) multiplied by the item's colour. [32, 32, 3]
    public func image(at index: Int) throws -> ImageBuffer {
        let gray = try base.image(at: index)
        let rgb = ColorPalette.colors[colorIndex(at: index)].rgb
        var out = [Float](repeating: 0, count: gray.width * gray.height * 3)
        for i in 0..<(gray.width * gray.height) {
            let v = gray.pixels[i]
            out[3 * i] = v * rgb.0; out[3 * i + 1] = v * rgb.1; out[3 * i + 2] = v * rgb.2
        }
        return try ImageBuffer(width: gray.width, height: gray.height, channels: 3, pixels: out)
    }
}
