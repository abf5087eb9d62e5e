import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Waits for SIGTERM or SIGINT without killing the process, so shutdown can be graceful.
public enum SignalWaiter {
    /// Suspends until SIGTERM/SIGINT arrives; returns the signal number.
    public static func wait() async -> Int32 {
        await withCheckedContinuation { (cont: CheckedContinuation<Int32, Never>) in
            let once = Once()
            var sources: [DispatchSourceSignal] = []
            for sig in [SIGTERM, SIGINT] {
                signal(sig, SIG_IGN)
                let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                src.setEventHandler {
                    if once.claim() {
                        sources.forEach { $0.cancel() }
                        cont.resume(returning: sig)
                    }
                }
                src.resume()
                sources.append(src)
            }
            Holder.keep(sources)
        }
    }

    private final class Once: @unchecked Sendable {
        private let lock = NSLock()
        private var done = false
        func claim() -> Bool { lock.lock(); defer { lock.unlock() }; if done { return false }; done = true; return true }
    }

    private enum Holder {
        nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []
        static func keep(_ s: [DispatchSourceSignal]) { sources.append(contentsOf: s) }
    }
}
