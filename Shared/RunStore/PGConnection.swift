import CLibPQ
import Foundation
/// One libpq connection (`PGconn`). Not thread-safe: the owning store serialises access.
/// Knows whether it is broken (`PQstatus`) and how to reset itself (`PQreset`).
final class PGConnection {
    let conninfo: String
    /// Statements run after every (re)connect, e.g. `SET search_path`.
    let setupSQL: String?
    private var conn: OpaquePointer?
    private var prepared: Set<String> = []

    init(conninfo: String, setupSQL: String? = nil) throws {
        self.conninfo = conninfo
        self.setupSQL = setupSQL
        try Self.validate(conninfo: conninfo)
        conn = PQconnectdb(conninfo)
        guard let conn, PQstatus(conn) == CONNECTION_OK else {
            let message = conn.map { Self.message(PQerrorMessage($0)) } ?? "out of memory"
            if let conn { PQfinish(conn) }
            self.conn = nil
            throw RunStoreError.connection(message)
        }
        // Server NOTICEs (e.g. "drop cascades to ...") would go to stderr; the store drops them.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        try runSetup()
    }

    deinit { close() }

    /// Checks a postgresql:// URL or key=value string with libpq's own parser.
    static func validate(conninfo: String) throws {
        var errmsg: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errmsg) else {
            let message = errmsg.map { String(cString: $0) } ?? "unparseable connection string"
            if let errmsg { PQfreemem(errmsg) }
            throw RunStoreError.invalidURL(message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        PQconninfoFree(options)
    }

    var isBroken: Bool { conn.map { PQstatus($0) != CONNECTION_OK } ?? true }
    var backendPID: Int32 { conn.map { PQbackendPID($0) } ?? 0 }

    /// Reconnects with the same parameters (`PQreset`); prepared statements are forgotten.
    func reset() throws {
        prepared.removeAll()
        guard let conn else { throw RunStoreError.closed }
        PQreset(conn)
        guard PQstatus(conn) == CONNECTION_OK else {
            throw RunStoreError.connection(Self.message(PQerrorMessage(conn)))
        }
        try runSetup()
    }

    func close() {
        if let conn { PQfinish(conn) }
        conn = nil
        prepared.removeAll()
    }

    private func runSetup() throws {
        if let setupSQL { try exec(setupSQL) }
    }

    private func handle() throws -> OpaquePointer {
        guard let conn else { throw RunStoreError.closed }
        return conn
    }

    /// Runs one or more statements without parameters (simple query protocol).
    func exec(_ sql: String) throws {
        let conn = try handle()
        _ = try check(PQexec(conn, sql))
    }

    /// Runs one parameterised statement (`PQexecParams`, text results).
    @discardableResult
    func query(_ sql: String, _ params: [PGValue] = []) throws -> PGRows {
        let conn = try handle()
        let result = Self.withParams(params) { count, values, lengths, formats in
            PQexecParams(conn, sql, count, nil, values, lengths, formats, 0)
        }
        return try check(result)
    }

    /// Runs a named prepared statement, preparing it on first use on this connection.
    @discardableResult
    func execute(prepared name: String, sql: String, _ params: [PGValue]) throws -> PGRows {
        let conn = try handle()
        if !prepared.contains(name) {
            _ = try check(PQprepare(conn, name, sql, Int32(params.count), nil))
            prepared.insert(name)
        }
        let result = Self.withParams(params) { count, values, lengths, formats in
            PQexecPrepared(conn, name, count, values, lengths, formats, 0)
        }
        return try check(result)
    }

    /// Sends all rows of `batch` through one prepared statement in libpq pipeline mode with a
    /// single sync point, so the batch is one implicit transaction and one round trip.
    func pipelined(prepared name: String, sql: String, paramCount: Int, batch: [[PGValue]]) throws {
        let conn = try handle()
        guard !batch.isEmpty else { return }
        guard PQenterPipelineMode(conn) == 1 else {
            throw RunStoreError.database("cannot enter pipeline mode: \(Self.message(PQerrorMessage(conn)))")
        }
        defer {
            // Exiting fails only with results still pending (a send failed midway); a fresh
            // connection is the simplest way back to a clean, non-pipelined state.
            if PQexitPipelineMode(conn) != 1, !isBroken { try? reset() }
        }
        var commands = 0
        var sendFailure: String?
        let sentPrepare = !prepared.contains(name)
        if sentPrepare {
            if PQsendPrepare(conn, name, sql, Int32(paramCount), nil) == 1 {
                commands += 1
            } else {
                sendFailure = Self.message(PQerrorMessage(conn))
            }
        }
        if sendFailure == nil {
            for row in batch {
                let sent = Self.withParams(row) { count, values, lengths, formats in
                    PQsendQueryPrepared(conn, name, count, values, lengths, formats, 0)
                }
                if sent != 1 { sendFailure = Self.message(PQerrorMessage(conn)); break }
                commands += 1
            }
        }
        if sendFailure == nil, PQpipelineSync(conn) != 1 {
            sendFailure = Self.message(PQerrorMessage(conn))
        }
        if let sendFailure {
            throw RunStoreError.database("pipeline send failed: \(sendFailure)")
        }
        // Each command yields its result(s) then NULL; the sync point yields PGRES_PIPELINE_SYNC.
        var firstError: String?
        for index in 0..<commands {
            while let result = PQgetResult(conn) {
                let status = PQresultStatus(result)
                if status == PGRES_FATAL_ERROR, firstError == nil {
                    firstError = Self.describe(result)
                }
                if index == 0, sentPrepare, status == PGRES_COMMAND_OK { prepared.insert(name) }
                PQclear(result)
            }
            if isBroken { break }
        }
        if !isBroken, let sync = PQgetResult(conn) {
            PQclear(sync)
        }
        if let firstError { throw RunStoreError.database(firstError) }
        if isBroken {
            throw RunStoreError.connection(Self.message(PQerrorMessage(conn)))
        }
    }

    // MARK: - Results

    private func check(_ result: OpaquePointer?) throws -> PGRows {
        guard let result else {
            let message = conn.map { Self.message(PQerrorMessage($0)) } ?? "no connection"
            throw isBroken ? RunStoreError.connection(message) : RunStoreError.database(message)
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PGRows(rows: [], affected: Self.affected(result))
        case PGRES_TUPLES_OK:
            let nrows = Int(PQntuples(result)), ncols = Int(PQnfields(result))
            var rows: [[String?]] = []
            rows.reserveCapacity(nrows)
            for r in 0..<nrows {
                var row: [String?] = []
                row.reserveCapacity(ncols)
                for c in 0..<ncols {
                    if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                        row.append(nil)
                    } else {
                        row.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                    }
                }
                rows.append(row)
            }
            return PGRows(rows: rows, affected: nrows)
        default:
            let message = Self.describe(result)
            throw isBroken ? RunStoreError.connection(message) : RunStoreError.database(message)
        }
    }

    private static func affected(_ result: OpaquePointer) -> Int {
        Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// libpq's error message with the SQLSTATE code in front.
    static func describe(_ result: OpaquePointer) -> String {
        let text = message(PQresultErrorMessage(result))
        if let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) {
            return "[\(String(cString: state))] \(text)"
        }
        return text
    }

    static func message(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "unknown libpq error" }
        let text = String(cString: pointer).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        return text.isEmpty ? "unknown libpq error" : text
    }

    static func message(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        message(UnsafePointer(pointer))
    }

    /// Marshals parameters into the C arrays libpq expects; text in format 0, bytes in format 1.
    private static func withParams<T>(
        _ params: [PGValue],
        _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> T
    ) -> T {
        var buffers: [UnsafeMutableRawPointer?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        buffers.reserveCapacity(params.count)
        for param in params {
            switch param {
            case .null:
                buffers.append(nil); lengths.append(0); formats.append(0)
            case .text(let string):
                buffers.append(UnsafeMutableRawPointer(strdup(string))); lengths.append(0); formats.append(0)
            case .bytes(let data):
                let memory = malloc(max(data.count, 1))!
                data.copyBytes(to: memory.assumingMemoryBound(to: UInt8.self), count: data.count)
                buffers.append(memory); lengths.append(Int32(data.count)); formats.append(1)
            }
        }
        defer { for buffer in buffers { free(buffer) } }
        let values: [UnsafePointer<CChar>?] = buffers.map { $0.map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) } }
        return values.withUnsafeBufferPointer { v in
            lengths.withUnsafeBufferPointer { l in
                formats.withUnsafeBufferPointer { f in
                    body(Int32(params.count), v.baseAddress, l.baseAddress, f.baseAddress)
                }
            }
        }
    }
}
