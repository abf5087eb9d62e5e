/// A dense, contiguous, row-major Float32 tensor with an optional reverse-mode tape node
/// and an optional forward-mode tangent.
///
/// Views (reshape, leading-axis slices, `detached()`) share storage. Ops are out-of-place
/// unless named `…InPlace`; in-place ops must not be applied to tensors the tape still needs.
public final class Tensor {
    public let shape: [Int]
    public let storage: Storage
    public let offset: Int
    public let count: Int
    /// Whether gradients are accumulated into `grad` (leaves) or flow through (interior).
    public var requiresGrad: Bool
    /// Accumulated gradient (same shape), filled by `backward()`.
    public var grad: Tensor? {
        get { _grad }
        set { _grad = newValue; gradOwned = false }
    }
    var _grad: Tensor?
    var gradOwned = false
    /// Forward-mode tangent (same shape) carried through ops for JVPs.
    public var tangent: Tensor?
    /// Optional name (parameters, debugging).
    public var name: String?
    var node: TapeNode?

    /// Pointer to the first element.
    @inline(__always) public var ptr: UnsafeMutablePointer<Float> { storage.base + offset }
    public var rank: Int { shape.count }

    init(shape: [Int], storage: Storage, offset: Int = 0, requiresGrad: Bool = false) {
        self.shape = shape
        self.storage = storage
        self.offset = offset
        self.count = Tensor.product(shape)
        self.requiresGrad = requiresGrad
        precondition(offset + count <= storage.count, "Tensor view exceeds its storage")
    }

    /// An uninitialised tensor (contents arbitrary; callers fill every element).
    public init(uninitialized shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative extent")
        self.shape = shape
        self.count = Tensor.product(shape)
        self.storage = Storage(uninitialized: count)
        self.offset = 0
        self.requiresGrad = false
    }

    /// A tensor filled with `value`.
    public convenience init(repeating value: Float, shape: [Int]) {
        self.init(uninitialized: shape)
        ptr.update(repeating: value, count: count)
    }

    /// Zeros of `shape`.
    public convenience init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    /// A tensor holding `data` (row-major) with `shape`.
    public convenience init(_ data: [Float], shape: [Int]) {
        precondition(data.count == Tensor.product(shape),
                     "Tensor data count \(data.count) does not match shape \(shape)")
        self.init(uninitialized: shape)
        data.withUnsafeBufferPointer { ptr.update(from: $0.baseAddress!, count: count) }
    }

    /// A scalar (shape []).
    public convenience init(scalar: Float) { self.init([scalar], shape: []) }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(zeros: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }
    public static func full(_ shape: [Int], _ v: Float) -> Tensor { Tensor(repeating: v, shape: shape) }
    /// 0, 1, …, n-1 as floats.
    public static func arange(_ n: Int) -> Tensor {
        let t = Tensor(uninitialized: [n]); for i in 0..<n { t.ptr[i] = Float(i) }; return t
    }

    @inline(__always) static func product(_ s: [Int]) -> Int { s.reduce(1, *) }

    /// Elements as a Swift array (row-major copy).
    public var array: [Float] { Array(UnsafeBufferPointer(start: ptr, count: count)) }
    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, got shape \(shape)")
        return ptr[0]
    }
    public subscript(flat i: Int) -> Float {
        get { ptr[i] }
        set { ptr[i] = newValue }
    }

    /// A new tensor with the same contents and no tape (a deep copy).
    public func copy() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.ptr.update(from: ptr, count: count)
        return t
    }

    /// The same storage viewed without tape, gradient or tangent (stop-gradient, no copy).
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage, offset: offset) }

    /// Marks this tensor as a trainable leaf; returns self.
    @discardableResult public func requiringGrad(_ on: Bool = true) -> Tensor {
        requiresGrad = on; return self
    }

    /// Copies `src` (same element count) into this tensor's memory.
    public func assign(_ src: Tensor) {
        precondition(src.count == count, "assign: \(src.shape) into \(shape)")
        ptr.update(from: src.ptr, count: count)
    }

    /// Fills with a constant.
    public func fill(_ v: Float) { ptr.update(repeating: v, count: count) }

    /// Size of axis `a` (negative counts from the end).
    public func size(_ a: Int) -> Int { shape[normAxis(a)] }
    @inline(__always) func normAxis(_ a: Int) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < rank, "axis \(a) out of range for shape \(shape)")
        return r
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = array.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(shape)) [\(head)\(count > 8 ? ", …" : "")]"
    }
}
