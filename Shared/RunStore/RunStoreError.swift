import Foundation

/// Errors of the run store and artifact store. Database errors carry the driver's own message.
public enum RunStoreError: Error, Equatable, CustomStringConvertible {
    /// A status change the lifecycle forbids (e.g. from a terminal status).
    case invalidTransition(from: RunStatus, to: RunStatus)
    /// No run with this id.
    case notFound(runID: String)
    /// A field failed validation; names the field and the limit.
    case invalidArgument(field: String, message: String)
    /// An unsupported or malformed store URL.
    case invalidURL(String)
    /// Could not connect / open the database (libpq or SQLite message).
    case connection(String)
    /// A statement failed (libpq or SQLite message, with SQLSTATE / result code).
    case database(String)
    /// A migration failed (version, name, and the driver message).
    case migration(version: Int, name: String, message: String)
    /// A stored artifact's bytes no longer hash to its name.
    case artifactCorrupted(sha256: String, actual: String)
    /// No artifact with this digest.
    case artifactNotFound(sha256: String)
    /// A file-system operation of the artifact store failed.
    case io(String)
    /// The store was closed.
    case closed

    public var description: String {
        switch self {
        case let .invalidTransition(from, to):
            return "invalid run status transition \(from.rawValue) -> \(to.rawValue)"
        case let .notFound(runID): return "run \(runID) not found"
        case let .invalidArgument(field, message): return "invalid argument \(field): \(message)"
        case let .invalidURL(message): return "invalid store URL: \(message)"
        case let .connection(message): return "connection failed: \(message)"
        case let .database(message): return "database error: \(message)"
        case let .migration(version, name, message):
            return "migration \(version) (\(name)) failed: \(message)"
        case let .artifactCorrupted(sha256, actual):
            return "artifact \(sha256) is corrupted: its bytes hash to \(actual)"
        case let .artifactNotFound(sha256): return "artifact \(sha256) not found"
        case let .io(message): return "artifact store I/O error: \(message)"
        case .closed: return "run store is closed"
        }
    }
}

/// Input validation shared by both backends.
enum RunStoreValidation {
    static let maxIDLength = 200
    static let maxTextLength = 10_000

    static func id(_ value: String, field: String) throws {
        if value.isEmpty {
            throw RunStoreError.invalidArgument(field: field, message: "must not be empty")
        }
        if value.utf8.count > maxIDLength {
            throw RunStoreError.invalidArgument(
                field: field, message: "is \(value.utf8.count) bytes, limit \(maxIDLength)")
        }
        if value.utf8.contains(0) {
            throw RunStoreError.invalidArgument(field: field, message: "must not contain NUL bytes")
        }
    }

    static func text(_ value: String, field: String, limit: Int = maxTextLength) throws {
        if value.utf8.count > limit {
            throw RunStoreError.invalidArgument(
                field: field, message: "is \(value.utf8.count) bytes, limit \(limit)")
        }
        if value.utf8.contains(0) {
            throw RunStoreError.invalidArgument(field: field, message: "must not contain NUL bytes")
        }
    }

    /// JSON text must parse (any JSON value, including fragments); jsonb rejects \u0000.
    static func json(_ value: String, field: String) throws {
        guard let bytes = value.data(using: .utf8),
              (try? JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed])) != nil
        else {
            throw RunStoreError.invalidArgument(field: field, message: "is not valid JSON")
        }
        if value.contains("\\u0000") {
            throw RunStoreError.invalidArgument(field: field, message: "must not contain \\u0000")
        }
    }

    static func start(_ start: RunStart) throws {
        try id(start.runID, field: "run_id")
        try id(start.requestID, field: "request_id")
        try id(start.service, field: "service")
        try id(start.kind, field: "kind")
        try text(start.worker, field: "worker", limit: maxIDLength)
        try text(start.gitCommit, field: "git_commit", limit: maxIDLength)
        try text(start.configJSON, field: "config", limit: 1 << 20)
        try json(start.configJSON, field: "config")
    }

    static func error(_ error: RunError?) throws {
        guard let error else { return }
        try text(error.code, field: "error.code", limit: maxIDLength)
        try text(error.field, field: "error.field", limit: maxIDLength)
        try text(error.message, field: "error.message")
    }

    static func event(_ event: RunEvent) throws {
        try id(event.runID, field: "event.run_id")
        try id(event.type, field: "event.type")
        try text(event.payloadJSON, field: "event.payload", limit: 1 << 20)
        try json(event.payloadJSON, field: "event.payload")
    }

    static func limit(_ value: Int, field: String) throws {
        if value < 0 || value > 100_000 {
            throw RunStoreError.invalidArgument(field: field, message: "is \(value), must be in 0...100000")
        }
    }
}
