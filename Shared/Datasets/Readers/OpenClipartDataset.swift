import Foundation

/// Openclipart PNGs from Debian's `openclipart-png`; the label is the top-level folder
/// ("animals", "food", ...). Images of any size are padded to square on white and resized.
public final class OpenClipartDataset: ImageDataset, @unchecked Sendable {
    public static let defaultRoot = "/usr/share/openclipart/png"

    public let name = "openclipart"
    public let resolution: Int
    public let channels = 3
    public let classNames: [String]
    public let templates = CaptionTemplates.clipart
    /// Paths relative to `root`, sorted.
    public let files: [String]
    public let labels: [Int]
    public let root: String
    public var count: Int { files.count }

    /// Walks `root`; folders listed in `excludeFolders` are skipped.
    public init(root: String = OpenClipartDataset.defaultRoot, resolution: Int = 64,
                excludeFolders: Set<String> = []) throws {
        guard resolution >= 4 && resolution <= 1024 else {
            throw DatasetError.invalidArgument(field: "resolution", message: "must be in 4...1024, got \(resolution)")
        }
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw DatasetError.notFound(root) }
        var found: [String] = []
        while let rel = walker.nextObject() as? String {
            if rel.lowercased().hasSuffix(".png"), rel.contains("/") { found.append(rel) }
        }
        found = found.filter { !excludeFolders.contains(String($0.split(separator: "/")[0])) }.sorted()
        guard !found.isEmpty else { throw DatasetError.notFound("PNG files under \(root)") }
        let folders = Array(Set(found.map { String($0.split(separator: "/")[0]) })).sorted()
        let idx = Dictionary(uniqueKeysWithValues: folders.enumerated().map { ($1, $0) })
        self.root = root
        self.resolution = resolution
        self.files = found
        self.classNames = folders
        self.labels = found.map { idx[String($0.split(separator: "/")[0])]! }
    }

    public func label(at index: Int) -> Int {
        checkIndex(index)
        return labels[index]
    }

    /// Captions from the folder path ("animals/birds" -> "birds, animals") and the class templates.
    public func captions(at index: Int) -> [String] {
        checkIndex(index)
        let parts = files[index].split(separator: "/").dropLast().map { $0.replacingOccurrences(of: "_", with: " ") }
        let cls = classNames[labels[index]].replacingOccurrences(of: "_", with: " ")
        var caps = [templates.render(cls)]
        if parts.count > 1 { caps.append(templates.render(parts.reversed().joined(separator: ", "), variant: 1)) }
        caps.append(templates.render(cls, variant: 2))
        return caps
    }

    public func image(at index: Int) throws -> ImageBuffer {
        checkIndex(index)
        return try PNGCodec.decode(path: "\(root)/\(files[index])", background: 1).fitted(to: resolution)
    }
}
