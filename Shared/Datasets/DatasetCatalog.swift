import Foundation

/// Names the built-in datasets and opens any of them (or a user folder) by name.
public enum DatasetCatalog {
    /// What `list()` reports for one dataset.
    public struct Info: Sendable {
        public var name: String
        public var description: String
        public var source: String
        public var available: Bool
        public var count: Int?
        public var classes: Int?
    }

    public static let builtIn = ["fashion-mnist", "fashion-mnist-test", "fmnist-color", "fmnist-color-test", "emoji", "openclipart"]

    /// Opens "fashion-mnist" (train part), "fashion-mnist-test", "fmnist-color" (tinted, 32 px RGB,
    /// colour + garment captions), "fmnist-color-test", "emoji", "openclipart", or a
    /// folder path (with optional `metadata.jsonl`).
    public static func open(_ name: String, resolution: Int? = nil, rgb: Bool = false) throws -> any ImageDataset {
        switch name {
        case "fashion-mnist", "fashion-mnist-train":
            return try FashionMNIST(part: .train, resolution: resolution ?? 28, rgb: rgb)
        case "fashion-mnist-test":
            return try FashionMNIST(part: .test, resolution: resolution ?? 28, rgb: rgb)
        case "fmnist-color", "fmnist-color-train":
            return try FashionMNISTColor(part: .train, resolution: resolution ?? 32)
        case "fmnist-color-test":
            return try FashionMNISTColor(part: .test, resolution: resolution ?? 32)
        case "emoji":
            return try EmojiDataset(resolution: resolution ?? 64)
        case "openclipart":
            return try OpenClipartDataset(resolution: resolution ?? 64)
        default:
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: name, isDirectory: &isDir), isDir.boolValue {
                return try ImageFolderDataset(root: name, resolution: resolution ?? 64)
            }
            throw DatasetError.invalidArgument(
                field: "dataset", message: "unknown dataset '\(name)'; use one of \(builtIn.joined(separator: ", ")) or a folder path")
        }
    }

    /// Every built-in dataset with its availability and size.
    public static func list() -> [Info] {
        func info(_ name: String, _ desc: String, _ source: String) -> Info {
            if let ds = try? open(name) {
                return Info(name: name, description: desc, source: source, available: true, count: ds.count,
                            classes: ds.classNames.count)
            }
            return Info(name: name, description: desc, source: source, available: false, count: nil, classes: nil)
        }
        return [
            info("fashion-mnist", "Fashion-MNIST train, 28x28 gray, 10 classes", "apt dataset-fashion-mnist"),
            info("fashion-mnist-test", "Fashion-MNIST test, 28x28 gray, 10 classes", "apt dataset-fashion-mnist"),
            info("fmnist-color", "Fashion-MNIST train at 32 px tinted one of 8 colours, captions 'a red dress'", "apt dataset-fashion-mnist"),
            info("fmnist-color-test", "Fashion-MNIST test, tinted, same captions", "apt dataset-fashion-mnist"),
            info("emoji", "gemojione emoji 64x64 on white, captions from name/keywords, category labels", "apt ruby-gemojione"),
            info("openclipart", "openclipart PNGs padded to square on white, folder labels", "apt openclipart-png"),
        ]
    }
}
