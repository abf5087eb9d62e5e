import Foundation

/// Errors raised while locating, loading or running pretrained networks.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case corrupt(path: String, message: String)
    case invalidArgument(field: String, message: String)

    public var description: String {
        switch self {
        case let .notFound(what): return "not found: \(what)"
        case let .corrupt(path, message): return "corrupt model file \(path): \(message)"
        case let .invalidArgument(field, message): return "invalid argument \(field): \(message)"
        }
    }
}
