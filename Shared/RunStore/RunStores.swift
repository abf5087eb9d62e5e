import Foundation

/// Opens a run store from a URL.
public enum RunStores {
    /// `postgresql://…` or `postgres://…` -> `PostgresRunStore`; `sqlite:PATH`, `sqlite://PATH`
    /// or a plain file path -> `SQLiteRunStore`. Applies pending migrations unless `migrate` is false.
    public static func open(url: String, migrate: Bool = true) throws -> RunStore {
        let store: RunStore
        switch try Target(url) {
        case .postgres(let url): store = try PostgresRunStore(url: url)
        case .sqlite(let path): store = try SQLiteRunStore(path: path)
        }
        if migrate {
            do { try store.migrate() } catch {
                store.close()
                throw error
            }
        }
        return store
    }

    /// Where a store URL points.
    public enum Target: Equatable, Sendable {
        case postgres(String)
        case sqlite(String)

        public init(_ url: String) throws {
            let trimmed = url.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { throw RunStoreError.invalidURL("empty store URL") }
            if trimmed.hasPrefix("postgresql://") || trimmed.hasPrefix("postgres://") {
                self = .postgres(trimmed)
                return
            }
            var path = trimmed
            if path.hasPrefix("sqlite://") {
                path = String(path.dropFirst("sqlite://".count))
            } else if path.hasPrefix("sqlite:") {
                path = String(path.dropFirst("sqlite:".count))
            } else if let colon = path.range(of: "://") {
                throw RunStoreError.invalidURL(
                    "unsupported scheme '\(path[..<colon.lowerBound])' in '\(URLRedaction.redact(url))'; "
                        + "use postgresql://, postgres://, sqlite:PATH or a file path")
            }
            guard !path.isEmpty else { throw RunStoreError.invalidURL("no file path in '\(URLRedaction.redact(url))'") }
            self = .sqlite(path)
        }
    }
}
