import Foundation

/// Prompt templates with a `{class}` placeholder, used for captions and zero-shot prompts.
public struct CaptionTemplates: Sendable, Equatable {
    public var templates: [String]

    public init(_ templates: [String]) {
        precondition(!templates.isEmpty, "at least one template")
        self.templates = templates
    }

    /// Fills template `variant` (modulo the count) with `className`.
    public func render(_ className: String, variant: Int = 0) -> String {
        let t = templates[((variant % templates.count) + templates.count) % templates.count]
        return t.replacingOccurrences(of: "{class}", with: className)
    }

    /// Every template filled with `className`.
    public func all(_ className: String) -> [String] { templates.map { $0.replacingOccurrences(of: "{class}", with: className) } }

    /// Photographs of objects (Fashion-MNIST, folders).
    public static let photo = CaptionTemplates([
        "a photo of a {class}", "a black and white photo of a {class}", "a low resolution photo of a {class}",
        "a picture of a {class}", "a {class}",
    ])
    /// Class prompts whose wording no training caption of any dataset here uses (evaluation of a
    /// CLIP head with unseen templates; the class names themselves are seen in training).
    public static let heldOut = CaptionTemplates([
        "an image showing one {class}", "{class}, catalogue shot", "this item is a {class}",
        "a product listing for a {class}",
    ])
    /// Emoji.
    public static let emoji = CaptionTemplates([
        "an emoji of {class}", "an icon of {class}", "a cartoon {class}", "{class}",
    ])
    /// Clip art.
    public static let clipart = CaptionTemplates([
        "a clip art of {class}", "a drawing of {class}", "an illustration of {class}", "{class}",
    ])
}
