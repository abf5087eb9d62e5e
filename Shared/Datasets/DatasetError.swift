import Foundation

/// Errors raised by dataset readers and image codecs; messages name the field and the limit.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case invalidArgument(field: String, message: String)
    case notFound(String)
    case corrupt(path: String, message: String)
    case png(String)

    public var description: String {
        switch self {
        case let .invalidArgument(field, message): return "invalid argument \(field): \(message)"
        case let .notFound(what): return "not found: \(what)"
        case let .corrupt(path, message): return "corrupt data in \(path): \(message)"
        case let .png(message): return "PNG error: \(message)"
        }
    }
}
