import Foundation

/// The named colours of `fmnist-color`: eight hue-separated, fully saturated colours (hues 45°
/// apart, so a hue check can tell them apart), each with caption synonyms.
public struct NamedColor: Sendable, Equatable {
    /// Canonical name used in the canonical caption ("red").
    public var name: String
    /// Caption words; the first is `name`.
    public var synonyms: [String]
    /// Linear RGB in [0, 1].
    public var rgb: (Float, Float, Float)
    /// Hue in degrees [0, 360).
    public var hue: Float { ColorPalette.hue(r: rgb.0, g: rgb.1, b: rgb.2) ?? 0 }

    public static func == (a: NamedColor, b: NamedColor) -> Bool {
        a.name == b.name && a.synonyms == b.synonyms && a.rgb == b.rgb
    }
}

/// The palette plus the hue measurements evaluation uses to score a garment's colour.
public enum ColorPalette {
    /// Eight colours at hues 0, 30, 60, 120, 180, 225, 275, 315 degrees.
    public static let colors: [NamedColor] = [
        NamedColor(name: "red", synonyms: ["red", "crimson"], rgb: (1.0, 0.1, 0.1)),
        NamedColor(name: "orange", synonyms: ["orange", "tangerine"], rgb: (1.0, 0.55, 0.1)),
        NamedColor(name: "yellow", synonyms: ["yellow", "golden"], rgb: (1.0, 0.95, 0.1)),
        NamedColor(name: "green", synonyms: ["green", "emerald"], rgb: (0.1, 0.9, 0.1)),
        NamedColor(name: "cyan", synonyms: ["cyan", "turquoise"], rgb: (0.1, 0.95, 0.95)),
        NamedColor(name: "blue", synonyms: ["blue", "cobalt"], rgb: (0.15, 0.3, 1.0)),
        NamedColor(name: "purple", synonyms: ["purple", "violet"], rgb: (0.65, 0.15, 1.0)),
        NamedColor(name: "pink", synonyms: ["pink", "magenta"], rgb: (1.0, 0.2, 0.75)),
    ]

    /// Colour names in palette order.
    public static var names: [String] { colors.map(\.name) }

    /// Hue in degrees of an RGB triple, or nil when it has (almost) no chroma.
    public static func hue(r: Float, g: Float, b: Float, minChroma: Float = 0.08) -> Float? {
        let mx = max(r, g, b), mn = min(r, g, b), c = mx - mn
        guard c >= minChroma else { return nil }
        var h: Float
        if mx == r { h = (g - b) / c } else if mx == g { h = (b - r) / c + 2 } else { h = (r - g) / c + 4 }
        h *= 60
        if h < 0 { h += 360 }
        return h
    }

    /// Circular distance between two hues in degrees (0...180).
    public static func hueDistance(_ a: Float, _ b: Float) -> Float {
        let d = abs(a - b).truncatingRemainder(dividingBy: 360)
        return min(d, 360 - d)
    }

    /// Palette index whose hue is nearest to the chroma-weighted mean hue of the image's coloured
    /// pixels (the garment; the background is black), or nil if nothing in it is coloured.
    public static func classify(_ image: ImageBuffer) -> Int? {
        guard image.channels == 3 else { return nil }
        var sx: Double = 0, sy: Double = 0
        let p = image.pixels
        for i in 0..<(image.width * image.height) {
            let r = p[3 * i], g = p[3 * i + 1], b = p[3 * i + 2]
            guard let h = hue(r: r, g: g, b: b) else { continue }
            let w = Double(max(r, g, b) - min(r, g, b))
            let a = Double(h) * Double.pi / 180
            sx += w * cos(a); sy += w * sin(a)
        }
        guard sx != 0 || sy != 0 else { return nil }
        var mean = Float(atan2(sy, sx) * 180 / Double.pi)
        if mean < 0 { mean += 360 }
        return nearest(hue: mean)
    }

    /// Palette index with the nearest hue.
    public static func nearest(hue: Float) -> Int {
        colors.indices.min { hueDistance(colors[$0].hue, hue) < hueDistance(colors[$1].hue, hue) }!
    }
}
