import Foundation

/// A parameter of a libpq statement: text format, binary bytes (bytea) or SQL NULL.
enum PGValue {
    case text(String)
    case bytes(Data)
    case null

    static func string(_ value: String?) -> PGValue { value.map { .text($0) } ?? .null }
    static func int(_ value: Int64) -> PGValue { .text(String(value)) }
    static func double(_ value: Double?) -> PGValue { value.map { .text(String($0)) } ?? .null }
    /// Seconds since 1970 as float8 text; SQL side converts with `to_timestamp($n::float8)`.
    static func date(_ value: Date?) -> PGValue { double(value?.timeIntervalSince1970) }
    static func data(_ value: Data?) -> PGValue { value.map { .bytes($0) } ?? .null }
}

/// Rows of a libpq result in text format, copied into Swift values.
struct PGRows {
    var rows: [[String?]]
    var affected: Int

    var first: [String?]? { rows.first }
}

/// Decoding of libpq text-format values.
enum PGDecode {
    static func int(_ text: String?) -> Int64? { text.flatMap { Int64($0) } }
    static func double(_ text: String?) -> Double? { text.flatMap { Double($0) } }
    static func date(_ text: String?) -> Date? { double(text).map { Date(timeIntervalSince1970: $0) } }

    /// bytea in hex output format: `\x0a1b...`.
    static func bytes(_ text: String?) -> Data? {
        guard let text else { return nil }
        var utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x") else {
            return Data(text.utf8)
        }
        utf8.removeFirst(2)
        var out = Data(count: utf8.count / 2)
        out.withUnsafeMutableBytes { raw in
            let dst = raw.bindMemory(to: UInt8.self)
            for i in 0..<(utf8.count / 2) {
                dst[i] = nibble(utf8[2 * i]) << 4 | nibble(utf8[2 * i + 1])
            }
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return 0
        }
    }
}
