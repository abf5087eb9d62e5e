import CCrypto
import Foundation

/// SHA-256 (FIPS 180-4) through OpenSSL's libcrypto (EVP digest API), streaming: `update`
/// any number of times, then `finalize`. Names content-addressed artifacts; verified against
/// NIST vectors and `sha256sum`. A value type: copies hash independently (copy-on-write of
/// the OpenSSL context).
public struct SHA256: Sendable {
    /// Owns one EVP_MD_CTX.
    private final class Context: @unchecked Sendable {
        let ctx: OpaquePointer
        init() {
            guard let c = EVP_MD_CTX_new(), EVP_DigestInit_ex(c, EVP_sha256(), nil) == 1 else {
                fatalError("libcrypto: cannot initialise a SHA-256 context")
            }
            ctx = c
        }
        init(copying other: Context) {
            guard let c = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(c, other.ctx) == 1 else {
                fatalError("libcrypto: cannot copy a SHA-256 context")
            }
            ctx = c
        }
        deinit { EVP_MD_CTX_free(ctx) }
    }

    private var context = Context()

    public init() {}

    /// Digest of `data` as 32 bytes.
    public static func hash<D: DataProtocol>(_ data: D) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data)
        return hasher.finalize()
    }

    /// Digest of `data` as 64 lowercase hex characters.
    public static func hex<D: DataProtocol>(_ data: D) -> String {
        hexString(hash(data))
    }

    public static func hexString(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(digest.count * 2)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public mutating func update<D: DataProtocol>(_ data: D) {
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        let ctx = context.ctx
        for region in data.regions {
            region.withUnsafeBytes { raw in
                if raw.count > 0 { _ = EVP_DigestUpdate(ctx, raw.baseAddress, raw.count) }
            }
        }
    }

    /// The 32-byte digest of everything passed to `update`; the hasher starts over afterwards.
    public mutating func finalize() -> [UInt8] {
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        let ok = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context.ctx, $0.baseAddress, &len) }
        precondition(ok == 1 && len == 32, "libcrypto: SHA-256 finalisation failed")
        context = Context()
        return out
    }
}
