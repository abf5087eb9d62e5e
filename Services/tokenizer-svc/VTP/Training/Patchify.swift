import ComputeCore
import Datasets

/// Converts images to patch sequences and back (the decoder's pixel shuffle, as a fixed permutation).
public enum Patchify {
    /// Images (each side x side, `channels` channels) -> [B, (side/p)², p·p·C], patch order
    /// row-major, inside a patch (y, x, c). Gray images are replicated to RGB when channels = 3.
    public static func patches(_ images: [ImageBuffer], patch p: Int, channels: Int = 3) throws -> Tensor {
        guard let first = images.first else { throw MethodError.invalidInput(field: "images", message: "must not be empty") }
        let side = first.width
        guard side % p == 0 else { throw MethodError.invalidInput(field: "images", message: "side \(side) not divisible by patch \(p)") }
        let g = side / p, T = g * g, P = p * p * channels
        var out = [Float](repeating: 0, count: images.count * T * P)
        for (b, raw) in images.enumerated() {
            guard raw.width == side && raw.height == side else {
                throw MethodError.invalidInput(field: "images[\(b)]", message: "size \(raw.width)x\(raw.height), expected \(side)x\(side)")
            }
            let img = channels == 3 ? raw.rgb() : raw.gray()
            for gy in 0..<g { for gx in 0..<g {
                let base = (b * T + gy * g + gx) * P
                for y in 0..<p { for x in 0..<p { for c in 0..<channels {
                    out[base + (y * p + x) * channels + c] = img.pixels[((gy * p + y) * side + gx * p + x) * channels + c]
                } } }
            } }
        }
        return Tensor(out, shape: [images.count, T, P])
    }

    /// Inverse of `patches`: [B, T, p·p·C] -> images (values clamped to [0, 1]).
    public static func images(_ patches: Tensor, patch p: Int, channels: Int = 3) throws -> [ImageBuffer] {
        let B = patches.shape[0], T = patches.shape[1]
        let g = Int(Double(T).squareRoot().rounded()), side = g * p, P = p * p * channels
        precondition(g * g == T && patches.shape[2] == P, "Patchify.images: shape \(patches.shape) vs patch \(p)")
        let src = patches.array
        var out: [ImageBuffer] = []
        for b in 0..<B {
            var px = [Float](repeating: 0, count: side * side * channels)
            for gy in 0..<g { for gx in 0..<g {
                let base = (b * T + gy * g + gx) * P
                for y in 0..<p { for x in 0..<p { for c in 0..<channels {
                    px[((gy * p + y) * side + gx * p + x) * channels + c] = min(1, max(0, src[base + (y * p + x) * channels + c]))
                } } }
            } }
            out.append(try ImageBuffer(width: side, height: side, channels: channels, pixels: px))
        }
        return out
    }
}
