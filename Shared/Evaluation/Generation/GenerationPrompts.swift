import Datasets
import Foundation

/// What a generated image was asked to show: an `fmnist-color` garment class and palette colour.
public struct PromptAttributes: Codable, Sendable, Hashable {
    /// Fashion-MNIST class (0...9, `FashionMNIST.classes`).
    public var classIndex: Int
    /// `ColorPalette.colors` index (0...7).
    public var colorIndex: Int
    public init(classIndex: Int, colorIndex: Int) { self.classIndex = classIndex; self.colorIndex = colorIndex }

    /// Every (class, colour) pair, class-major.
    public static var all: [PromptAttributes] {
        FashionMNIST.classes.indices.flatMap { c in ColorPalette.colors.indices.map { PromptAttributes(classIndex: c, colorIndex: $0) } }
    }
}

/// A prompt with the attributes it asks for.
public struct GenerationPrompt: Codable, Sendable, Hashable {
    public var text: String
    public var attributes: PromptAttributes
    public init(text: String, attributes: PromptAttributes) { self.text = text; self.attributes = attributes }
}

/// Evaluation prompts from `fmnist-color`'s caption templates with the attributes kept.
public enum GenerationPrompts {
    /// `count` prompts balanced over all 80 (class, colour) pairs (each pair `count / 80` or one
    /// more times, in a seeded order); each wording is drawn from the pair's training captions
    /// (templates x synonyms), or from the held-out templates with `heldOutWording`.
    public static func fmnistColor(count: Int, seed: UInt64 = 0, heldOutWording: Bool = false) -> [GenerationPrompt] {
        var rng = SeededRNG(seed: SeededRNG.derive(seed, 0x9e11))
        let pairs = PromptAttributes.all
        var order: [PromptAttributes] = []
        while order.count < count { order += pairs.shuffled(using: &rng) }
        return order.prefix(max(0, count)).map { a in
            let texts: [String]
            if heldOutWording {
                texts = FashionMNISTColor.heldOutTemplates.map {
                    FashionMNISTColor.prompt(classIndex: a.classIndex, colorIndex: a.colorIndex, template: $0)
                }
            } else {
                texts = FashionMNISTColor.captions(classIndex: a.classIndex, colorIndex: a.colorIndex)
            }
            return GenerationPrompt(text: texts[Int(rng.next() % UInt64(texts.count))], attributes: a)
        }
    }

    /// `count` prompts from any dataset's own captions (no checkable attributes): items in a seeded
    /// order, every item once before any repeats, one of the item's captions each.
    public static func captions(of dataset: any ImageDataset, count: Int, seed: UInt64 = 0) -> [String] {
        var rng = SeededRNG(seed: SeededRNG.derive(seed, 0xca9))
        var order: [Int] = []
        while order.count < count && dataset.count > 0 { order += Array(0..<dataset.count).shuffled(using: &rng) }
        return order.prefix(max(0, count)).map { i in
            let texts = dataset.captions(at: i)
            return texts.isEmpty ? "" : texts[Int(rng.next() % UInt64(texts.count))]
        }
    }
}
