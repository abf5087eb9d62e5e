import CPNG
import Foundation

/// PNG decode/encode through libpng (8-bit gray, RGB, RGBA, palette; 16-bit is reduced to 8).
public enum PNGCodec {
    /// Raw 8-bit RGBA pixels of a decoded PNG. // [H, W, 4]
    public struct RGBA: Sendable {
        public var width: Int
        public var height: Int
        public var bytes: [UInt8]
    }

    /// Largest image decoded by default (width × height, 4096 × 4096 = 64 MiB of RGBA).
    public static let maxPixels = 4096 * 4096

    /// Width and height from the PNG's IHDR chunk, read from the first 24 bytes without
    /// decoding anything (PNG spec §11.2.2: signature, chunk length, "IHDR", width, height).
    public static func dimensions(_ data: [UInt8]) throws -> (width: Int, height: Int) {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard data.count >= 24, Array(data[0..<8]) == signature else {
            throw DatasetError.png("not a PNG file (bad signature or shorter than its header)")
        }
        guard Array(data[12..<16]) == Array("IHDR".utf8) else {
            throw DatasetError.png("not a PNG file (first chunk is not IHDR)")
        }
        func be32(_ i: Int) -> Int { data[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    /// Decodes PNG bytes to 8-bit RGBA. The header's width × height is checked against
    /// `maxPixels` before any pixel memory is allocated.
    public static func decodeRGBA(_ data: [UInt8], maxPixels: Int = PNGCodec.maxPixels) throws -> RGBA {
        let (width, height) = try dimensions(data)
        guard width > 0, height > 0, width * height <= maxPixels else {
            throw DatasetError.png("header says \(width)x\(height) = \(width * height) pixels; the limit is \(maxPixels) pixels (image.max_pixels)")
        }
        var out: UnsafeMutablePointer<UInt8>?
        var w: UInt32 = 0
        var h: UInt32 = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = data.withUnsafeBufferPointer { buf in
            lm_png_decode_rgba(buf.baseAddress, buf.count, &out, &w, &h, &err, err.count)
        }
        guard rc == 0, let ptr = out else {
            throw DatasetError.png(String(cString: err))
        }
        defer { lm_png_free(ptr) }
        let n = Int(w) * Int(h) * 4
        return RGBA(width: Int(w), height: Int(h), bytes: Array(UnsafeBufferPointer(start: ptr, count: n)))
    }

    /// Decodes a PNG file and composites alpha over `background` (white by default).
    /// Returns 3 channels, or 1 if `gray` is set.
    public static func decode(path: String, background: Float = 1, gray: Bool = false) throws -> ImageBuffer {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError.notFound(path)
        }
        do {
            return try decode([UInt8](data), background: background, gray: gray)
        } catch let DatasetError.png(message) {
            throw DatasetError.corrupt(path: path, message: message)
        }
    }

    /// Decodes PNG bytes and composites alpha over `background`.
    public static func decode(_ data: [UInt8], background: Float = 1, gray: Bool = false,
                              maxPixels: Int = PNGCodec.maxPixels) throws -> ImageBuffer {
        let rgba = try decodeRGBA(data, maxPixels: maxPixels)
        let n = rgba.width * rgba.height
        var px = [Float](repeating: 0, count: n * 3)
        rgba.bytes.withUnsafeBufferPointer { src in
            for i in 0..<n {
                let a = Float(src[4 * i + 3]) / 255
                for c in 0..<3 {
                    px[3 * i + c] = Float(src[4 * i + c]) / 255 * a + background * (1 - a)
                }
            }
        }
        let img = try ImageBuffer(width: rgba.width, height: rgba.height, channels: 3, pixels: px)
        return gray ? img.gray() : img
    }

    /// Encodes 8-bit interleaved samples (channels 1, 2, 3 or 4) to PNG bytes.
    public static func encode(bytes: [UInt8], width: Int, height: Int, channels: Int) throws -> [UInt8] {
        guard [1, 2, 3, 4].contains(channels) else {
            throw DatasetError.invalidArgument(field: "channels", message: "must be 1-4, got \(channels)")
        }
        guard width > 0, height > 0, bytes.count == width * height * channels else {
            throw DatasetError.invalidArgument(
                field: "bytes", message: "expected \(width)x\(height)x\(channels) = \(width * height * channels) samples, got \(bytes.count)")
        }
        var out: UnsafeMutablePointer<UInt8>?
        var len = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = bytes.withUnsafeBufferPointer { buf in
            lm_png_encode(buf.baseAddress, UInt32(width), UInt32(height), Int32(channels), &out, &len, &err, err.count)
        }
        guard rc == 0, let ptr = out else { throw DatasetError.png(String(cString: err)) }
        defer { lm_png_free(ptr) }
        return Array(UnsafeBufferPointer(start: ptr, count: len))
    }

    /// Encodes an image (8-bit quantised) to PNG bytes.
    public static func encode(_ image: ImageBuffer) throws -> [UInt8] {
        try encode(bytes: image.bytes(), width: image.width, height: image.height, channels: image.channels)
    }

    /// Writes an image as a PNG file.
    public static func write(_ image: ImageBuffer, to path: String) throws {
        let data = try encode(image)
        guard FileManager.default.createFile(atPath: path, contents: Data(data)) else {
            throw DatasetError.invalidArgument(field: "path", message: "cannot write \(path)")
        }
    }

    /// Inflates gzip data (used for IDX files).
    public static func gunzip(_ data: [UInt8]) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var len = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = data.withUnsafeBufferPointer { buf in lm_gunzip(buf.baseAddress, buf.count, &out, &len, &err, err.count) }
        guard rc == 0, let ptr = out else { throw DatasetError.png("gunzip: " + String(cString: err)) }
        defer { lm_png_free(ptr) }
        return Array(UnsafeBufferPointer(start: ptr, count: len))
    }
}
