import Glibc

/// A reference-counted block of Float32 memory; returns itself to a size-keyed pool on release.
/// Either owned (pooled heap buffer) or borrowed from an owner (e.g. an mmap'd safetensors file).
public final class Storage {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int
    let pooled: Bool
    let owner: AnyObject?

    /// Uninitialised storage of `count` floats, taken from the buffer pool when possible.
    init(uninitialized count: Int) {
        self.count = count
        self.base = BufferPool.shared.take(count)
        self.pooled = true
        self.owner = nil
    }

    /// Storage that points into memory kept alive by `owner` (not pooled, not freed here).
    init(borrowing base: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.base = base
        self.count = count
        self.pooled = false
        self.owner = owner
    }

    deinit {
        if pooled { BufferPool.shared.give(base, count) }
    }
}

/// Process-wide cache of freed Float buffers keyed by exact element count, so a training
/// step re-uses the buffers of the previous step instead of page-faulting fresh memory.
public final class BufferPool {
    public static let shared = BufferPool()
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var lock = pthread_mutex_t()
    /// Bytes currently handed out to live tensors.
    public private(set) var liveBytes = 0
    /// Peak of `liveBytes` since start or the last `resetPeak()`.
    public private(set) var peakLiveBytes = 0
    /// Bytes parked in the pool (reusable).
    public private(set) var cachedBytes = 0
    /// Upper bound on parked bytes; beyond it released buffers are freed.
    public var cacheLimitBytes = 2 << 30

    init() { pthread_mutex_init(&lock, nil) }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        pthread_mutex_lock(&lock)
        liveBytes += n * 4
        if liveBytes > peakLiveBytes { peakLiveBytes = liveBytes }
        if var list = free[n], let p = list.popLast() {
            free[n] = list
            cachedBytes -= n * 4
            pthread_mutex_unlock(&lock)
            return p
        }
        pthread_mutex_unlock(&lock)
        var raw: UnsafeMutableRawPointer? = nil
        let rc = posix_memalign(&raw, 64, n * 4)
        precondition(rc == 0 && raw != nil, "ComputeCore: out of memory allocating \(n) floats")
        return raw!.bindMemory(to: Float.self, capacity: n)
    }

    func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        let n = max(count, 1)
        pthread_mutex_lock(&lock)
        liveBytes -= n * 4
        if cachedBytes + n * 4 <= cacheLimitBytes {
            free[n, default: []].append(p)
            cachedBytes += n * 4
            pthread_mutex_unlock(&lock)
        } else {
            pthread_mutex_unlock(&lock)
            Glibc.free(p)
        }
    }

    /// Frees every parked buffer.
    public func trim() {
        pthread_mutex_lock(&lock)
        for (_, list) in free { for p in list { Glibc.free(p) } }
        free = [:]
        cachedBytes = 0
        pthread_mutex_unlock(&lock)
    }

    public func resetPeak() {
        pthread_mutex_lock(&lock); peakLiveBytes = liveBytes; pthread_mutex_unlock(&lock)
    }
}

/// Process memory figures read from /proc/self/status (Linux), in bytes.
public enum ProcessMemory {
    /// Peak resident set size (VmHWM).
    public static var peakResidentBytes: Int { field("VmHWM:") }
    /// Current resident set size (VmRSS).
    public static var residentBytes: Int { field("VmRSS:") }

    static func field(_ name: String) -> Int {
        guard let f = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, 512, f) != nil {
            let s = String(cString: line)
            if s.hasPrefix(name) {
                let digits = s.dropFirst(name.count).filter { $0.isNumber }
                return (Int(String(digits)) ?? 0) * 1024
            }
        }
        return 0
    }
}
