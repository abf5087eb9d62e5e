import Foundation

/// A user's image folder described by `metadata.jsonl` lines `{"file_name": ..., "text": ...}`.
/// Without metadata, every PNG in the folder is listed with an empty caption. Unlabeled (-1).
public final class ImageFolderDataset: ImageDataset, @unchecked Sendable {
    public struct Item: Sendable { public var file: String; public var text: String }

    public let name: String
    public let resolution: Int
    public let channels = 3
    public let classNames: [String] = []
    public let templates = CaptionTemplates.photo
    public let items: [Item]
    public let root: String
    public var count: Int { items.count }

    /// Reads `root/metadata.jsonl`; throws naming the line and field on malformed input.
    public init(root: String, resolution: Int = 64, requireMetadata: Bool = false) throws {
        guard resolution >= 4 && resolution <= 1024 else {
            throw DatasetError.invalidArgument(field: "resolution", message: "must be in 4...1024, got \(resolution)")
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError.notFound("image folder \(root)")
        }
        let meta = "\(root)/metadata.jsonl"
        var items: [Item] = []
        if let data = FileManager.default.contents(atPath: meta) {
            let text = String(decoding: data, as: UTF8.self)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty { continue }
                guard let obj = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                    throw DatasetError.corrupt(path: meta, message: "line \(n + 1) is not a JSON object")
                }
                guard let file = obj["file_name"] as? String, !file.isEmpty else {
                    throw DatasetError.corrupt(path: meta, message: "line \(n + 1): field file_name missing or empty")
                }
                guard let caption = obj["text"] as? String else {
                    throw DatasetError.corrupt(path: meta, message: "line \(n + 1): field text missing or not a string")
                }
                guard FileManager.default.fileExists(atPath: "\(root)/\(file)") else {
                    throw DatasetError.notFound("\(root)/\(file) (metadata.jsonl line \(n + 1))")
                }
                items.append(Item(file: file, text: caption))
            }
        } else if requireMetadata {
            throw DatasetError.notFound(meta)
        } else {
            let files = (try FileManager.default.contentsOfDirectory(atPath: root))
                .filter { $0.lowercased().hasSuffix(".png") }.sorted()
            items = files.map { Item(file: $0, text: "") }
        }
        guard !items.isEmpty else { throw DatasetError.notFound("images in \(root)") }
        self.root = root
        self.name = URL(fileURLWithPath: root).lastPathComponent
        self.resolution = resolution
        self.items = items
    }

    public func label(at index: Int) -> Int { checkIndex(index); return -1 }

    public func captions(at index: Int) -> [String] {
        checkIndex(index)
        return [items[index].text]
    }

    public func image(at index: Int) throws -> ImageBuffer {
        checkIndex(index)
        return try PNGCodec.decode(path: "\(root)/\(items[index].file)", background: 1).fitted(to: resolution)
    }
}
