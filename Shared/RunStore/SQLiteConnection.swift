import CSQLite
import Foundation
/// One SQLite connection with a statement cache. Not thread-safe: the owning store serialises
/// access. Opens in WAL mode with a busy timeout so several processes can share the file.
final class SQLiteConnection {
    let path: String
    private var db: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(path: String, busyTimeoutMs: Int32 = 10_000) throws {
        self.path = path
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            self.db = nil
            throw RunStoreError.connection("sqlite3_open_v2(\(path)): \(message) (code \(rc))")
        }
        sqlite3_busy_timeout(db, busyTimeoutMs)
        do {
            if path != ":memory:" { _ = try query("PRAGMA journal_mode=WAL") }
            try exec("PRAGMA synchronous=NORMAL")
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        if let db { sqlite3_close_v2(db) }
        db = nil
    }

    private func handle() throws -> OpaquePointer {
        guard let db else { throw RunStoreError.closed }
        return db
    }

    private func failure(_ what: String, _ rc: Int32) -> RunStoreError {
        let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "closed"
        return .database("\(what): \(message) (sqlite code \(rc))")
    }

    /// Runs one or more statements without parameters.
    func exec(_ sql: String) throws {
        let db = try handle()
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
            sqlite3_free(errmsg)
            throw RunStoreError.database("\(message) (sqlite code \(rc))")
        }
    }

    /// Runs one statement (cached, parameters bound as ?1, ?2, ...) and returns all rows.
    @discardableResult
    func query(_ sql: String, _ params: [SQLValue] = []) throws -> [[SQLValue]] {
        let db = try handle()
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
        } else {
            var prepared: OpaquePointer?
            let rc = sqlite3_prepare_v2(db, sql, -1, &prepared, nil)
            guard rc == SQLITE_OK, let prepared else { throw failure("prepare", rc) }
            statements[sql] = prepared
            statement = prepared
        }
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (index, param) in params.enumerated() {
            let i = Int32(index + 1)
            let rc: Int32
            switch param {
            case .null: rc = sqlite3_bind_null(statement, i)
            case .int(let v): rc = sqlite3_bind_int64(statement, i, v)
            case .real(let v): rc = sqlite3_bind_double(statement, i, v)
            case .text(let v): rc = sqlite3_bind_text(statement, i, v, -1, Self.transient)
            case .blob(let v):
                if v.isEmpty {
                    rc = sqlite3_bind_zeroblob(statement, i, 0)
                } else {
                    rc = v.withUnsafeBytes { sqlite3_bind_blob(statement, i, $0.baseAddress, Int32(v.count), Self.transient) }
                }
            }
            guard rc == SQLITE_OK else { throw failure("bind parameter \(i)", rc) }
        }
        var rows: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw failure("step", rc) }
            let count = sqlite3_column_count(statement)
            var row: [SQLValue] = []
            row.reserveCapacity(Int(count))
            for c in 0..<count {
                switch sqlite3_column_type(statement, c) {
                case SQLITE_INTEGER: row.append(.int(sqlite3_column_int64(statement, c)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(statement, c)))
                case SQLITE_TEXT: row.append(.text(String(cString: sqlite3_column_text(statement, c))))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(statement, c))
                    if n == 0 { row.append(.blob(Data())) } else {
                        row.append(.blob(Data(bytes: sqlite3_column_blob(statement, c), count: n)))
                    }
                default: row.append(.null)
                }
            }
            rows.append(row)
        }
        return rows
    }

    /// Runs `body` in `BEGIN IMMEDIATE` ... `COMMIT` (rolled back if `body` throws).
    func immediateTransaction<T>(_ body: () throws -> T) throws -> T {
        try exec("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try exec("COMMIT")
            return value
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }
}
