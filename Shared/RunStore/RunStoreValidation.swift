import Foundation

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
