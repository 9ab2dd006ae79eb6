import Foundation
import KubeProxyKernel
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP socket created inside a named network namespace (`ip netns add`), from a
/// thread that alone enters the namespace: the socket stays in it, so a server in the test
/// process can answer clients that live in the lab, and the test process itself never moves.
public enum NamespacedSocket {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    /// A bound, listening IPv4 socket on `host:port` in namespace `namespace`.
    public static func listen(namespace: String, host: String, port: Int) throws -> Int32 {
        try NetworkNamespace.run(in: namespace) {
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
