import Foundation

/// Gemojione emoji from Debian's `ruby-gemojione`: 64x64 PNGs with name, keywords and category
/// from `config/index.json`; alpha composited on white. Labels are categories.
public final class EmojiDataset: ImageDataset, @unchecked Sendable {
    public struct Entry: Sendable {
        public var shortname: String
        public var unicode: String
        public var name: String
        public var category: String
        public var keywords: [String]
    }

    public let name = "emoji"
    public let resolution: Int
    public let channels = 3
    public let classNames: [String]
    public let templates = CaptionTemplates.emoji
    public let entries: [Entry]
    public let labels: [Int]
    public let root: String
    public var count: Int { entries.count }

    /// Finds the installed gem (`/usr/share/rubygems-integration/all/gems/gemojione-*`).
    public static func defaultRoot() throws -> String {
        let base = "/usr/share/rubygems-integration/all/gems"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        guard let gem = names.filter({ $0.hasPrefix("gemojione-") }).sorted().last else {
            throw DatasetError.notFound("gemojione gem under \(base) (install ruby-gemojione)")
        }
        return "\(base)/\(gem)"
    }

    /// Reads the index; images are decoded lazily.
    public init(root: String? = nil, resolution: Int = 64) throws {
        guard resolution >= 4 && resolution <= 1024 else {
            throw DatasetError.invalidArgument(field: "resolution", message: "must be in 4...1024, got \(resolution)")
        }
        let dir = try root ?? EmojiDataset.defaultRoot()
        let indexPath = "\(dir)/config/index.json"
        guard let data = FileManager.default.contents(atPath: indexPath) else { throw DatasetError.notFound(indexPath) }
        guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw DatasetError.corrupt(path: indexPath, message: "top level is not an object")
        }
        var entries: [Entry] = []
        for key in obj.keys.sorted() {
            guard let e = obj[key] as? [String: Any], let unicode = e["unicode"] as? String,
                  let name = e["name"] as? String, let category = e["category"] as? String
            else { throw DatasetError.corrupt(path: indexPath, message: "entry \(key) lacks unicode/name/category") }
            let png = "\(dir)/assets/png/\(unicode).png"
            guard FileManager.default.fileExists(atPath: png) else { continue }
            entries.append(Entry(shortname: key, unicode: unicode, name: name, category: category,
                                 keywords: (e["keywords"] as? [String]) ?? []))
        }
        guard !entries.isEmpty else { throw DatasetError.notFound("emoji PNGs under \(dir)/assets/png") }
        let cats = Array(Set(entries.map(\.category))).sorted()
        let catIndex = Dictionary(uniqueKeysWithValues: cats.enumerated().map { ($1, $0) })
        self.root = dir
        self.resolution = resolution
        self.entries = entries
        self.classNames = cats
        self.labels = entries.map { catIndex[$0.category]! }
    }

    public func label(at index: Int) -> Int {
        checkIndex(index)
        return labels[index]
    }

    /// Captions from the emoji's name, its keywords and its category.
    public func captions(at index: Int) -> [String] {
        checkIndex(index)
        let e = entries[index]
        let kws = e.keywords.filter { $0.lowercased() != e.name.lowercased() }.prefix(4)
        var caps = [templates.render(e.name, variant: 0)]
        if !kws.isEmpty { caps.append("\(e.name): \(kws.joined(separator: ", "))") }
        caps.append("an emoji of \(e.name) from the \(e.category) category")
        caps.append(templates.render(e.name, variant: 1))
        return caps
    }

    public func image(at index: Int) throws -> ImageBuffer {
        checkIndex(index)
        let img = try PNGCodec.decode(path: "\(root)/assets/png/\(entries[index].unicode).png", background: 1)
        return img.width == resolution && img.height == resolution ? img : img.fitted(to: resolution)
    }
}
