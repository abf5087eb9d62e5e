import ComputeCore
import Foundation

extension ImageBuffer {
    /// Stacks same-sized images into a planar batch tensor. -> [B, C, H, W], values in [0, 1]
    public static func batchTensor(_ images: [ImageBuffer]) throws -> Tensor {
        guard let first = images.first else { throw DatasetError.invalidArgument(field: "images", message: "must not be empty") }
        guard images.allSatisfy({ $0.width == first.width && $0.height == first.height && $0.channels == first.channels }) else {
            throw DatasetError.invalidArgument(field: "images", message: "all must be \(first.width)x\(first.height)x\(first.channels)")
        }
        var data: [Float] = []
        data.reserveCapacity(images.count * first.pixels.count)
        for img in images { data.append(contentsOf: img.chw()) }
        return Tensor(data, shape: [images.count, first.channels, first.height, first.width])
    }

    /// Splits a planar batch tensor back into images (values clamped to [0, 1]). [B, C, H, W] ->
    public static func images(from tensor: Tensor) throws -> [ImageBuffer] {
        guard tensor.rank == 4, tensor.shape[1] == 1 || tensor.shape[1] == 3 else {
            throw DatasetError.invalidArgument(field: "tensor", message: "must be [B, 1 or 3, H, W], got \(tensor.shape)")
        }
        let (b, c, h, w) = (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
        let all = tensor.array
        return try (0..<b).map { i in
            try ImageBuffer.fromCHW(all[(i * c * h * w)..<((i + 1) * c * h * w)].map { min(1, max(0, $0)) },
                                    channels: c, height: h, width: w)
        }
    }
}
