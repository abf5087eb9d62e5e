import Foundation

/// Errors raised by metrics and evaluators; messages name the field and the limit.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    case invalidArgument(field: String, message: String)
    case numerical(String)

    public var description: String {
        switch self {
        case let .invalidArgument(field, message): return "invalid argument \(field): \(message)"
        case let .numerical(message): return "numerical failure: \(message)"
        }
    }
}
