import Foundation

/// An image as floats in [0, 1], interleaved height-major: `pixels[(y * width + x) * channels + c]`.
/// `channels` is 1 (gray) or 3 (RGB); alpha is composited away when images are loaded.
public struct ImageBuffer: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    /// [H, W, C] interleaved, values in [0, 1].
    public var pixels: [Float]

    /// Wraps pixels; throws if the buffer size does not match `height * width * channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [Float]) throws {
        guard width > 0, height > 0 else {
            throw DatasetError.invalidArgument(field: "width/height", message: "must be positive, got \(width)x\(height)")
        }
        guard channels == 1 || channels == 3 else {
            throw DatasetError.invalidArgument(field: "channels", message: "must be 1 or 3, got \(channels)")
        }
        guard pixels.count == width * height * channels else {
            throw DatasetError.invalidArgument(
                field: "pixels", message: "expected \(width * height * channels) values, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A constant-colour image (value in [0, 1] for every channel).
    public init(width: Int, height: Int, channels: Int, fill: Float) {
        precondition(width > 0 && height > 0 && (channels == 1 || channels == 3))
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = [Float](repeating: fill, count: width * height * channels)
    }

    /// Value at (x, y, c).
    @inlinable public subscript(x: Int, y: Int, c: Int) -> Float {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }

    /// The same picture with 3 channels (gray is replicated).
    public func rgb() -> ImageBuffer {
        if channels == 3 { return self }
        var out = [Float](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let v = pixels[i]
            out[3 * i] = v
            out[3 * i + 1] = v
            out[3 * i + 2] = v
        }
        return try! ImageBuffer(width: width, height: height, channels: 3, pixels: out)
    }

    /// The same picture with 1 channel (ITU-R BT.601 luma).
    public func gray() -> ImageBuffer {
        if channels == 1 { return self }
        var out = [Float](repeating: 0, count: width * height)
        for i in 0..<(width * height) {
            out[i] = 0.299 * pixels[3 * i] + 0.587 * pixels[3 * i + 1] + 0.114 * pixels[3 * i + 2]
        }
        return try! ImageBuffer(width: width, height: height, channels: 1, pixels: out)
    }

    /// Planar copy for networks. // [C, H, W]
    public func chw() -> [Float] {
        var out = [Float](repeating: 0, count: pixels.count)
        let plane = width * height
        for i in 0..<plane {
            for c in 0..<channels { out[c * plane + i] = pixels[i * channels + c] }
        }
        return out
    }

    /// Builds an image from a planar buffer. // [C, H, W] -> [H, W, C]
    public static func fromCHW(_ data: [Float], channels: Int, height: Int, width: Int) throws -> ImageBuffer {
        let plane = width * height
        guard data.count == plane * channels else {
            throw DatasetError.invalidArgument(field: "data", message: "expected \(plane * channels) values, got \(data.count)")
        }
        var out = [Float](repeating: 0, count: data.count)
        for i in 0..<plane {
            for c in 0..<channels { out[i * channels + c] = data[c * plane + i] }
        }
        return try ImageBuffer(width: width, height: height, channels: channels, pixels: out)
    }

    /// Quantises to 8-bit, rounding to nearest and clamping to [0, 255].
    public func bytes() -> [UInt8] {
        pixels.map { v in
            let s = (v * 255).rounded()
            return UInt8(max(0, min(255, s.isNaN ? 0 : s)))
        }
    }

    /// Builds an image from 8-bit interleaved samples.
    public static func fromBytes(_ bytes: [UInt8], width: Int, height: Int, channels: Int) throws -> ImageBuffer {
        try ImageBuffer(width: width, height: height, channels: channels, pixels: bytes.map { Float($0) / 255 })
    }
}
