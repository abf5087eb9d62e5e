import Foundation

/// Contact sheets for reports: images in a grid, each optionally captioned underneath with a
/// built-in 3x5 pixel font (upper-case ASCII, digits, common punctuation).
public enum ImageGrid {
    /// Lays out `images` in `columns` columns. Cells are `cellSize` (default: the first image's
    /// size); `captions` (one per image) are drawn in `captionLines` text lines under each cell.
    public static func make(_ images: [ImageBuffer], columns: Int, cellSize: Int? = nil, padding: Int = 2,
                            captions: [String]? = nil, captionLines: Int = 2, textScale: Int = 1,
                            background: Float = 1) throws -> ImageBuffer {
        guard !images.isEmpty else { throw DatasetError.invalidArgument(field: "images", message: "must not be empty") }
        guard columns > 0 else { throw DatasetError.invalidArgument(field: "columns", message: "must be positive, got \(columns)") }
        guard padding >= 0 else { throw DatasetError.invalidArgument(field: "padding", message: "must be >= 0, got \(padding)") }
        guard textScale >= 1 && textScale <= 8 else {
            throw DatasetError.invalidArgument(field: "textScale", message: "must be in 1...8, got \(textScale)")
        }
        if let caps = captions, caps.count != images.count {
            throw DatasetError.invalidArgument(field: "captions", message: "need one per image (\(images.count)), got \(caps.count)")
        }
        let cell = cellSize ?? max(images[0].width, images[0].height)
        let channels = images.contains { $0.channels == 3 } ? 3 : 1
        let rows = (images.count + columns - 1) / columns
        let lineHeight = 6 * textScale
        let textH = captions == nil ? 0 : captionLines * lineHeight + textScale
        let W = padding + columns * (cell + padding)
        let H = padding + rows * (cell + textH + padding)
        var sheet = ImageBuffer(width: W, height: H, channels: channels, fill: background)
        for (i, img0) in images.enumerated() {
            var img = img0.width == cell && img0.height == cell ? img0 : img0.fitted(to: cell, fill: background)
            if channels == 3 { img = img.rgb() }
            let ox = padding + (i % columns) * (cell + padding)
            let oy = padding + (i / columns) * (cell + textH + padding)
            for y in 0..<cell {
                for x in 0..<cell {
                    for c in 0..<channels { sheet[ox + x, oy + y, c] = img[x, y, c] }
                }
            }
            if let caps = captions {
                let lines = BitmapFont.wrap(caps[i], maxChars: max(1, cell / (4 * textScale)), maxLines: captionLines)
                for (l, line) in lines.enumerated() {
                    BitmapFont.draw(line, into: &sheet, x: ox, y: oy + cell + textScale + l * lineHeight, scale: textScale, value: 0)
                }
            }
        }
        return sheet
    }

    /// Draws `text` (upper-cased, the built-in 3x5 font, `scale` pixels per font pixel) with its
    /// top-left corner at (x, y) in every channel set to `value`; pixels outside are clipped.
    public static func drawText(_ text: String, into image: inout ImageBuffer, x: Int, y: Int, scale: Int = 1, value: Float = 0) {
        BitmapFont.draw(text, into: &image, x: x, y: y, scale: scale, value: value)
    }
}

/// A 3x5 bitmap font (each glyph is 5 rows of 3 bits, most significant bit on the left); captions,
/// chart labels.
public enum BitmapFont {
    static let glyphs: [Character: [UInt8]] = [
        "A": [2, 5, 7, 5, 5], "B": [6, 5, 6, 5, 6], "C": [3, 4, 4, 4, 3], "D": [6, 5, 5, 5, 6],
        "E": [7, 4, 6, 4, 7], "F": [7, 4, 6, 4, 4], "G": [3, 4, 5, 5, 3], "H": [5, 5, 7, 5, 5],
        "I": [7, 2, 2, 2, 7], "J": [1, 1, 1, 5, 2], "K": [5, 5, 6, 5, 5], "L": [4, 4, 4, 4, 7],
        "M": [5, 7, 7, 5, 5], "N": [6, 5, 5, 5, 5], "O": [2, 5, 5, 5, 2], "P": [6, 5, 6, 4, 4],
        "Q": [2, 5, 5, 6, 3], "R": [6, 5, 6, 5, 5], "S": [3, 4, 2, 1, 6], "T": [7, 2, 2, 2, 2],
        "U": [5, 5, 5, 5, 7], "V": [5, 5, 5, 5, 2], "W": [5, 5, 7, 7, 5], "X": [5, 5, 2, 5, 5],
        "Y": [5, 5, 2, 2, 2], "Z": [7, 1, 2, 4, 7],
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [6, 1, 2, 4, 7], "3": [6, 1, 2, 1, 6],
        "4": [5, 5, 7, 1, 1], "5": [7, 4, 6, 1, 6], "6": [3, 4, 7, 5, 7], "7": [7, 1, 2, 2, 2],
        "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 6],
        "-": [0, 0, 7, 0, 0], ".": [0, 0, 0, 0, 2], ",": [0, 0, 0, 2, 4], ":": [0, 2, 0, 2, 0],
        "/": [1, 1, 2, 4, 4], "(": [1, 2, 2, 2, 1], ")": [4, 2, 2, 2, 4], "!": [2, 2, 2, 0, 2],
        "?": [6, 1, 2, 0, 2], "'": [2, 2, 0, 0, 0], "=": [0, 7, 0, 7, 0], "+": [0, 2, 7, 2, 0],
        "_": [0, 0, 0, 0, 7], "%": [5, 1, 2, 4, 5], " ": [0, 0, 0, 0, 0],
        "*": [0, 5, 2, 5, 0], "<": [1, 2, 4, 2, 1], ">": [4, 2, 1, 2, 4],
        "±": [2, 7, 2, 0, 7], "×": [0, 5, 2, 5, 0], "[": [3, 2, 2, 2, 3], "]": [6, 2, 2, 2, 6],
        ";": [0, 2, 0, 2, 4], "|": [2, 2, 2, 2, 2], "#": [5, 7, 5, 7, 5], "&": [2, 5, 2, 5, 3],
    ]

    /// Greedy word wrap to at most `maxLines` lines of `maxChars`; overflowing text is cut.
    static func wrap(_ text: String, maxChars: Int, maxLines: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            var w = String(word)
            if w.count > maxChars { w = String(w.prefix(maxChars)) }
            if current.isEmpty { current = w }
            else if current.count + 1 + w.count <= maxChars { current += " " + w }
            else {
                lines.append(current)
                current = w
            }
        }
        if !current.isEmpty { lines.append(current) }
        return Array(lines.prefix(maxLines))
    }

    /// Draws upper-cased `text` with its top-left corner at (x, y); pixels outside are clipped.
    /// Each glyph is 3x5 `scale`-pixel cells on a 4-cell advance.
    public static func draw(_ text: String, into image: inout ImageBuffer, x: Int, y: Int, scale: Int, value: Float) {
        var cx = x
        for ch in text.uppercased() {
            let rows = glyphs[ch] ?? glyphs["?"]!
            for (r, bits) in rows.enumerated() {
                for col in 0..<3 where bits & (4 >> col) != 0 {
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            let px = cx + col * scale + dx
                            let py = y + r * scale + dy
                            if px >= 0 && px < image.width && py >= 0 && py < image.height {
                                for c in 0..<image.channels { image[px, py, c] = value }
                            }
                        }
                    }
                }
            }
            cx += 4 * scale
        }
    }
}
