import Foundation

/// Runs blocking system calls (netlink sends and receives, up to their 30 s timeout) on a thread
/// of their own, never on Swift's cooperative pool, whose few threads (one per core) every task of
/// the process shares: a slow kernel answer must not stall the informers or the health server.
/// A thread per call: they are a few per sync, and none waits behind another.
public enum BlockingIO {
    /// `body`'s result, computed on a thread of its own.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result(catching: body)) }
            thread.name = "skp-blocking-io"
            thread.start()
        }
    }
}
