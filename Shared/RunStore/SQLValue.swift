import Foundation

/// A value bound to or read from a SQLite statement.
enum SQLValue: Equatable {
    case null
    case int(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    static func string(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    static func double(_ value: Double?) -> SQLValue { value.map { .real($0) } ?? .null }
    /// Seconds since 1970 as REAL.
    static func date(_ value: Date?) -> SQLValue { double(value?.timeIntervalSince1970) }
    static func data(_ value: Data?) -> SQLValue { value.map { .blob($0) } ?? .null }

    var stringValue: String? {
        switch self {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .real(let d): return String(d)
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        case .null: return nil
        }
    }
    var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .real(let d): return Int64(d)
        case .text(let s): return Int64(s)
        default: return nil
        }
    }
    var doubleValue: Double? {
        switch self {
        case .real(let d): return d
        case .int(let i): return Double(i)
        case .text(let s): return Double(s)
        default: return nil
        }
    }
    var dateValue: Date? { doubleValue.map { Date(timeIntervalSince1970: $0) } }
    var dataValue: Data? {
        switch self {
        case .blob(let b): return b
        case .text(let s): return Data(s.utf8)
        default: return nil
        }
    }
}
