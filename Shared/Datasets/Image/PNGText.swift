import Foundation

/// Text metadata chunks in PNG files (PNG spec §11.3.4): `tEXt` (Latin-1) for keys and values
/// Latin-1 can spell, `iTXt` (uncompressed UTF-8) otherwise. Generated images carry their
/// parameters this way (prompt, seed, steps, guidance, sampler, model, tokenizer, commit).
public enum PNGText {
    static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]

    /// `png` with one text chunk per entry inserted right after IHDR (entries keep their order).
    /// Keys must be 1-79 Latin-1 characters without NUL (the spec's keyword rule).
    public static func insert(_ entries: [(key: String, value: String)], into png: [UInt8]) throws -> [UInt8] {
        guard png.count >= 33, Array(png[0..<8]) == signature, Array(png[12..<16]) == Array("IHDR".utf8) else {
            throw DatasetError.png("not a PNG (no signature / IHDR)")
        }
        let ihdrEnd = 8 + 12 + Int(be32(png, 8))
        var chunks: [UInt8] = []
        for (key, value) in entries {
            guard let k = key.data(using: .isoLatin1), (1...79).contains(k.count), !k.contains(0) else {
                throw DatasetError.invalidArgument(field: "png text key", message: "'\(key)' must be 1-79 Latin-1 characters")
            }
            if let v = value.data(using: .isoLatin1), !v.contains(0) {
                chunks += chunk("tEXt", [UInt8](k) + [0] + [UInt8](v))
            } else {
                // keyword, NUL, compression flag 0, method 0, empty language tag, NUL, empty translated keyword, NUL, UTF-8 text
                chunks += chunk("iTXt", [UInt8](k) + [0, 0, 0, 0, 0] + Array(value.utf8))
            }
        }
        return Array(png[0..<ihdrEnd]) + chunks + Array(png[ihdrEnd...])
    }

    /// Every tEXt / iTXt entry of `png`, in file order (later duplicates win in the dictionary form).
    public static func read(_ png: [UInt8]) throws -> [(key: String, value: String)] {
        guard png.count >= 8, Array(png[0..<8]) == signature else { throw DatasetError.png("not a PNG") }
        var out: [(String, String)] = []
        var p = 8
        while p + 12 <= png.count {
            let len = Int(be32(png, p)), type = String(decoding: png[(p + 4)..<(p + 8)], as: UTF8.self)
            guard p + 12 + len <= png.count else { throw DatasetError.png("truncated \(type) chunk") }
            let data = Array(png[(p + 8)..<(p + 8 + len)])
            guard be32(png, p + 8 + len) == crc32(Array(png[(p + 4)..<(p + 8 + len)])) else {
                throw DatasetError.png("CRC mismatch in \(type) chunk")
            }
            if type == "tEXt", let z = data.firstIndex(of: 0) {
                out.append((latin1(data[..<z]), latin1(data[(z + 1)...])))
            } else if type == "iTXt", let z = data.firstIndex(of: 0), z + 3 <= data.count {
                var q = z + 3                                           // skip NUL, flag, method
                guard data[z + 1] == 0 else { p += 12 + len; continue }  // compressed iTXt: not written by us
                for _ in 0..<2 { while q < data.count && data[q] != 0 { q += 1 }; q += 1 }  // language, translated key
                out.append((latin1(data[..<z]), String(decoding: data[min(q, data.count)...], as: UTF8.self)))
            }
            if type == "IEND" { break }
            p += 12 + len
        }
        return out
    }

    /// The entries as a dictionary.
    public static func dictionary(_ png: [UInt8]) throws -> [String: String] {
        Dictionary(try read(png), uniquingKeysWith: { _, b in b })
    }

    static func latin1<C: Collection>(_ b: C) -> String where C.Element == UInt8 {
        String(data: Data(b), encoding: .isoLatin1) ?? ""
    }

    static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let n = UInt32(data.count), c = crc32(body)
        return [UInt8(n >> 24), UInt8(n >> 16 & 255), UInt8(n >> 8 & 255), UInt8(n & 255)] + body +
            [UInt8(c >> 24), UInt8(c >> 16 & 255), UInt8(c >> 8 & 255), UInt8(c & 255)]
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 (ISO 3309, as in PNG and zlib).
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 255)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
