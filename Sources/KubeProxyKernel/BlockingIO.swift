import Dispatch

/// Runs blocking system calls (netlink sends and receives, up to their 30 s timeout) off Swift's
/// cooperative pool, whose few threads (one per core) every task of the process shares: a slow
/// kernel answer must not stall the informers or the health server.
///
/// Each call gets a serial queue of its own, which Dispatch runs on its overcommitting pool: a
/// call never waits behind another, and idle threads are reused rather than made (and their
/// memory arenas left behind) per call.
public enum BlockingIO {
    /// `body`'s result, computed on a Dispatch thread.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "skp-blocking-io").async { continuation.resume(with: Result(catching: body)) }
        }
    }
}
