import Foundation

/// Read-only safetensors file (u64 little-endian header length, JSON header, raw data);
/// F32 tensors are returned as arrays, other dtypes are listed but not decoded.
struct WeightFile {
    struct Entry {
        var dtype: String
        var shape: [Int]
        var start: Int
        var end: Int
    }

    let path: String
    let data: Data
    let entries: [String: Entry]
    let dataStart: Int

    init(path: String) throws {
        guard let d = FileManager.default.contents(atPath: path) else { throw ModelError.notFound(path) }
        guard d.count >= 8 else { throw ModelError.corrupt(path: path, message: "shorter than 8 bytes") }
        let n = d.withUnsafeBytes { raw in Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))) }
        guard n > 0, 8 + n <= d.count else { throw ModelError.corrupt(path: path, message: "header length \(n) exceeds file size \(d.count)") }
        guard let header = try JSONSerialization.jsonObject(with: d.subdata(in: 8..<(8 + n))) as? [String: Any] else {
            throw ModelError.corrupt(path: path, message: "header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let v = value as? [String: Any], let dtype = v["dtype"] as? String, let shape = v["shape"] as? [Int],
                  let offs = v["data_offsets"] as? [Int], offs.count == 2, offs[0] <= offs[1], 8 + n + offs[1] <= d.count
            else { throw ModelError.corrupt(path: path, message: "bad header entry \(name)") }
            entries[name] = Entry(dtype: dtype, shape: shape, start: offs[0], end: offs[1])
        }
        self.path = path
        self.data = d
        self.entries = entries
        self.dataStart = 8 + n
    }

    /// Shape of tensor `name`.
    func shape(_ name: String) throws -> [Int] {
        guard let e = entries[name] else { throw ModelError.corrupt(path: path, message: "missing tensor \(name)") }
        return e.shape
    }

    /// F32 tensor `name` (row-major); checks the shape when `expect` is given.
    func floats(_ name: String, expect: [Int]? = nil) throws -> [Float] {
        guard let e = entries[name] else { throw ModelError.corrupt(path: path, message: "missing tensor \(name)") }
        guard e.dtype == "F32" else { throw ModelError.corrupt(path: path, message: "\(name) has dtype \(e.dtype), expected F32") }
        if let s = expect, s != e.shape {
            throw ModelError.corrupt(path: path, message: "\(name) has shape \(e.shape), expected \(s)")
        }
        let count = e.shape.reduce(1, *)
        guard (e.end - e.start) == count * 4 else {
            throw ModelError.corrupt(path: path, message: "\(name): \(e.end - e.start) bytes for \(count) floats")
        }
        var out = [Float](repeating: 0, count: count)
        data.withUnsafeBytes { raw in
            out.withUnsafeMutableBytes { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.start)..<(dataStart + e.end)]))
            }
        }
        return out
    }
}
