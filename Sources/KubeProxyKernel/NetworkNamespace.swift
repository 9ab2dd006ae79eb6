import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Running code inside a named network namespace (`ip netns add`) without moving the process: a
/// thread of its own enters the namespace, and sockets it makes (netlink too) stay there for life.
public enum NetworkNamespace {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    private typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    private static let cloneNewNet: Int32 = 0x4000_0000

    /// Runs `body` on a thread that has entered network namespace `name` and returns its result.
    public static func run<T: Sendable>(in name: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { throw Failure(description: "setns is not available") }
        let setns = unsafeBitCast(symbol, to: SetNS.self)
        let result = Mutex<Result<T, any Error>>(.failure(Failure(description: "not run")))
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            // iproute2 keeps named namespaces in /run/netns (/var/run/netns where that is not a link to it).
            var nsFD = open("/run/netns/\(name)", O_RDONLY)
            if nsFD < 0 { nsFD = open("/var/run/netns/\(name)", O_RDONLY) }
            guard nsFD >= 0 else { result.withLock { $0 = .failure(Failure(description: "open netns \(name): errno \(errno)")) }; return }
            defer { close(nsFD) }
            guard setns(nsFD, cloneNewNet) == 0 else { result.withLock { $0 = .failure(Failure(description: "setns \(name): errno \(errno)")) }; return }
            let value = Result { try body() }
            result.withLock { $0 = value }
        }
        thread.start()
        done.wait()
        return try result.withLock { try $0.get() }
    }
}
