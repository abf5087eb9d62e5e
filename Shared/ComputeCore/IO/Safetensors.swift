import Glibc

/// safetensors checkpoints (https://huggingface.co/docs/safetensors): an 8-byte little-endian
/// header length, a JSON header {name: {dtype, shape, data_offsets}}, then raw little-endian data.
public enum Safetensors {
    /// Writes `tensors` as F32 with optional string `metadata`; names are kept verbatim.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to path: String) throws {
        var header: [String: JSONValue] = [:]
        var offset = 0
        for (name, t) in tensors {
            precondition(name != "__metadata__", "Safetensors: '__metadata__' is reserved")
            header[name] = .object(["dtype": .string("F32"),
                                    "shape": .array(t.shape.map { .number(Double($0)) }),
                                    "data_offsets": .array([.number(Double(offset)), .number(Double(offset + t.count * 4))])])
            offset += t.count * 4
        }
        if !metadata.isEmpty { header["__metadata__"] = .object(metadata.mapValues { .string($0) }) }
        var json = Array(JSONValue.object(header).serialized.utf8)
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        guard let f = fopen(path, "wb") else { throw ComputeError.io("cannot open \(path) for writing (errno \(errno))") }
        defer { fclose(f) }
        var n = UInt64(json.count).littleEndian
        var ok = fwrite(&n, 8, 1, f) == 1
        ok = ok && json.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, json.count, f) } == json.count
        for (_, t) in tensors where t.count > 0 {
            ok = ok && fwrite(t.ptr, 4, t.count, f) == t.count
        }
        guard ok else { throw ComputeError.io("short write to \(path)") }
    }

    /// Writes a module's named parameters.
    public static func save(_ module: Module, to path: String, metadata: [String: String] = [:]) throws {
        try write(module.namedParameters(), metadata: metadata, to: path)
    }
}

/// A safetensors file opened with mmap. F32 tensors are zero-copy views when aligned;
/// F16, BF16, F64, I64, I32, I16, I8, U8 and BOOL are converted to Float32.
public final class SafetensorsFile {
    public struct Entry { public let dtype: String; public let shape: [Int]; public let begin: Int; public let end: Int }
    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    let base: UnsafeMutableRawPointer
    let size: Int
    let dataStart: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ComputeError.io("cannot open \(path) (errno \(errno))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ComputeError.io("cannot stat \(path)") }
        size = Int(st.st_size)
        guard size >= 8 else { throw ComputeError.format("\(path): \(size) bytes is too short for safetensors") }
        guard let m = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw ComputeError.io("mmap of \(path) failed (errno \(errno))")
        }
        base = m
        let hlen = Int(UInt64(littleEndian: m.loadUnaligned(as: UInt64.self)))
        guard hlen > 0, 8 + hlen <= size else {
            munmap(m, size)
            throw ComputeError.format("\(path): header length \(hlen) exceeds file size \(size)")
        }
        dataStart = 8 + hlen
        let hb = Array(UnsafeBufferPointer(start: m.advanced(by: 8).assumingMemoryBound(to: UInt8.self), count: hlen))
        let header: JSONValue
        do { header = try JSONValue.parse(hb) } catch { munmap(m, size); throw error }
        var entries: [String: Entry] = [:], meta: [String: String] = [:]
        for (k, v) in header.object ?? [:] {
            if k == "__metadata__" {
                for (mk, mv) in v.object ?? [:] { meta[mk] = mv.string ?? mv.serialized }
                continue
            }
            guard let dt = v["dtype"]?.string, let sh = v["shape"]?.array, let off = v["data_offsets"]?.array,
                  off.count == 2, let b = off[0].int, let e = off[1].int else {
                munmap(m, size); throw ComputeError.format("\(path): bad header entry for '\(k)'")
            }
            guard dataStart + e <= size, b <= e else {
                munmap(m, size); throw ComputeError.format("\(path): '\(k)' data_offsets [\(b), \(e)] out of file")
            }
            entries[k] = Entry(dtype: dt, shape: sh.compactMap { $0.int }, begin: b, end: e)
        }
        self.entries = entries
        self.metadata = meta
    }

    deinit { munmap(base, size) }

    /// Tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// The tensor `name` as Float32 (zero-copy for aligned F32 data).
    public func tensor(_ name: String) throws -> Tensor {
        guard let e = entries[name] else { throw ComputeError.missingTensor(name) }
        let n = e.shape.reduce(1, *)
        let raw = base.advanced(by: dataStart + e.begin)
        let elemSize: Int
        switch e.dtype {
        case "F32", "I32": elemSize = 4
        case "F16", "BF16", "I16": elemSize = 2
        case "F64", "I64": elemSize = 8
        case "I8", "U8", "BOOL": elemSize = 1
        default: throw ComputeError.format("\(path): tensor '\(name)' has unsupported dtype \(e.dtype)")
        }
        guard e.end - e.begin == n * elemSize else {
            throw ComputeError.format("\(path): '\(name)' has \(e.end - e.begin) bytes, expected \(n * elemSize)")
        }
        if e.dtype == "F32" && Int(bitPattern: raw) % 4 == 0 {
            let st = Storage(borrowing: raw.assumingMemoryBound(to: Float.self), count: n, owner: self)
            return Tensor(shape: e.shape, storage: st)
        }
        let t = Tensor(uninitialized: e.shape)
        let o = t.ptr
        for i in 0..<n {
            let p = raw.advanced(by: i * elemSize)
            switch e.dtype {
            case "F32": o[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            case "F16": o[i] = Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))))
            case "BF16": o[i] = Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))) << 16)
            case "F64": o[i] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
            case "I64": o[i] = Float(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
            case "I32": o[i] = Float(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
            case "I16": o[i] = Float(Int16(littleEndian: p.loadUnaligned(as: Int16.self)))
            case "I8": o[i] = Float(p.load(as: Int8.self))
            default: o[i] = Float(p.load(as: UInt8.self))
            }
        }
        return t
    }

    /// Every tensor by name (F32 ones are views into the mapping).
    public func all() throws -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        for n in names { d[n] = try tensor(n) }
        return d
    }
}
