import ComputeCore
import Foundation
import MeshProto

/// A typed failure a handler returns to its caller: the terminal reply carries it as
/// `latentmesh.v1.Error` and the audit records it.
public struct ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case invalidArgument = "INVALID_ARGUMENT"
        case notFound = "NOT_FOUND"
        case deadlineExceeded = "DEADLINE_EXCEEDED"
        case cancelled = "CANCELLED"
        case unavailable = "UNAVAILABLE"
        case internalError = "INTERNAL"
    }

    public var code: Code
    public var field: String
    public var message: String

    public init(_ code: Code, field: String = "", _ message: String) {
        self.code = code; self.field = field; self.message = message
    }

    /// INVALID_ARGUMENT naming the field, its value and the allowed range.
    public static func outOfRange<T: Comparable>(_ field: String, _ value: T, _ range: ClosedRange<T>) -> ServiceError {
        ServiceError(.invalidArgument, field: field,
                     "\(field) = \(value) is out of range: must be in \(range.lowerBound)...\(range.upperBound)")
    }

    public static func invalid(_ field: String, _ message: String) -> ServiceError {
        ServiceError(.invalidArgument, field: field, "\(field): \(message)")
    }

    /// `error` as a ServiceError: itself, a method library's `MethodError` (bad config, input or
    /// preset -> INVALID_ARGUMENT naming the field), or INTERNAL carrying its description.
    public static func from(_ error: Error) -> ServiceError {
        if let se = error as? ServiceError { return se }
        if let me = error as? MethodError {
            switch me {
            case .invalidConfig, .invalidInput, .unknownPreset: return ServiceError(.invalidArgument, field: me.field, me.description)
            case .checkpoint: return ServiceError(.internalError, me.description)
            }
        }
        return ServiceError(.internalError, "\(error)")
    }

    public static func notFound(_ field: String, _ message: String) -> ServiceError {
        ServiceError(.notFound, field: field, message)
    }

    public var description: String {
        field.isEmpty ? "\(code.rawValue): \(message)" : "\(code.rawValue) [\(field)]: \(message)"
    }

    /// Protobuf form for replies.
    public var proto: Latentmesh_V1_Error {
        var e = Latentmesh_V1_Error()
        e.code = code.protoCode
        e.field = field
        e.message = message
        return e
    }

    public init(proto: Latentmesh_V1_Error) {
        self.init(Code(protoCode: proto.code), field: proto.field, proto.message)
    }
}

extension ServiceError.Code {
    public var protoCode: Latentmesh_V1_ErrorCode {
        switch self {
        case .invalidArgument: return .invalidArgument
        case .notFound: return .notFound
        case .deadlineExceeded: return .deadlineExceeded
        case .cancelled: return .cancelled
        case .unavailable: return .unavailable
        case .internalError: return .internal
        }
    }

    public init(protoCode: Latentmesh_V1_ErrorCode) {
        switch protoCode {
        case .invalidArgument: self = .invalidArgument
        case .notFound: self = .notFound
        case .deadlineExceeded: self = .deadlineExceeded
        case .cancelled: self = .cancelled
        case .unavailable: self = .unavailable
        default: self = .internalError
        }
    }

    public init?(name: String) {
        self.init(rawValue: name)
    }
}
