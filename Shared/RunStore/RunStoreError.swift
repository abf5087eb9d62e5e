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
