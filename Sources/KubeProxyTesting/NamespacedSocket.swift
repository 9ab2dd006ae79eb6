import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP socket created inside a named network namespace (`ip netns add`), from a
/// thread that alone enters the namespace: the socket stays in it, so a server in the test
/// process can answer clients that live in the lab, and the test process itself never moves.
public enum NamespacedSocket {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    private typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    private static let cloneNewNet: Int32 = 0x4000_0000

    /// Runs `body` on a thread that has entered network namespace `namespace` (`ip netns`); the
    /// sockets it makes belong to that namespace for their whole life.
    public static func inNamespace<T: Sendable>(_ namespace: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { throw Failure(description: "setns is not available") }
        let setns = unsafeBitCast(symbol, to: SetNS.self)
        let result = Mutex<Result<T, any Error>>(.failure(Failure(description: "not run")))
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            let nsFD = open("/var/run/netns/\(namespace)", O_RDONLY)
            guard nsFD >= 0 else { result.withLock { $0 = .failure(Failure(description: "open netns \(namespace): errno \(errno)")) }; return }
            defer { close(nsFD) }
            guard setns(nsFD, cloneNewNet) == 0 else { result.withLock { $0 = .failure(Failure(description: "setns \(namespace): errno \(errno)")) }; return }
            let value = Result { try body() }
            result.withLock { $0 = value }
        }
        thread.start()
        done.wait()
        return try result.withLock { try $0.get() }
    }

    /// A bound, listening IPv4 socket on `host:port` in namespace `namespace`.
    public static func listen(namespace: String, host: String, port: Int) throws -> Int32 {
        try inNamespace(namespace) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, Glibc.listen(fd, 128) == 0 else {
                let e = errno
                close(fd)
                throw Failure(description: "bind \(host):\(port) in \(namespace): errno \(e)")
            }
            return fd
        }
    }
}
