import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KubeProxyModel

/// Thin helpers over BSD sockets for the lab's servers and probes (IPv4 and IPv6).
public enum Sockets {
    /// A failed socket call and its errno.
    public struct Failure: Error, CustomStringConvertible {
        public var call: String
        public var code: Int32
        public init(call: String, code: Int32) {
            self.call = call
            self.code = code
        }
        public var description: String { "\(call): \(String(cString: strerror(code)))" }
    }

    /// A socket address for `ip:port`.
    public static func address(_ ip: IPAddress, _ port: Int) -> (storage: sockaddr_storage, length: socklen_t) {
        var storage = sockaddr_storage()
        switch ip {
        case .v4(let a):
            withUnsafeMutablePointer(to: &storage) { p in
                p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    sin.pointee.sin_family = sa_family_t(AF_INET)
                    sin.pointee.sin_port = in_port_t(UInt16(port).bigEndian)
                    sin.pointee.sin_addr.s_addr = a.bigEndian
                }
            }
            return (storage, socklen_t(MemoryLayout<sockaddr_in>.size))
        case .v6:
            let bytes = ip.bytes
            withUnsafeMutablePointer(to: &storage) { p in
                p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                    sin.pointee.sin6_family = sa_family_t(AF_INET6)
                    sin.pointee.sin6_port = in_port_t(UInt16(port).bigEndian)
                    withUnsafeMutableBytes(of: &sin.pointee.sin6_addr) { raw in
                        for i in 0..<16 { raw[i] = bytes[i] }
                    }
                }
            }
            return (storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
    }

    /// A socket of `family` and `type` with SO_REUSEADDR (and IPv6-only for IPv6).
    public static func open(_ family: IPFamily, _ type: Int32) throws -> Int32 {
        let fd = socket(family == .ipv4 ? AF_INET : AF_INET6, type, 0)
        guard fd >= 0 else { throw Failure(call: "socket", code: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        // IPv6 only, so an IPv6 server can run beside an IPv4 one on the same port.
        if family == .ipv6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        return fd
    }

    /// Binds `fd` to `ip:port`.
    public static func bind(_ fd: Int32, _ ip: IPAddress, _ port: Int) throws {
        var (storage, length) = address(ip, port)
        let rc = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) } }
        guard rc == 0 else { throw Failure(call: "bind \(ip):\(port)", code: errno) }
    }

    /// Receive and send timeouts.
    public static func setTimeout(_ fd: Int32, milliseconds: Int) {
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Connects; 0 or the errno.
    public static func connect(_ fd: Int32, _ ip: IPAddress, _ port: Int) -> Int32 {
        var (storage, length) = address(ip, port)
        let rc = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) } }
        return rc == 0 ? 0 : errno
    }

    /// Reads until the peer closes, `limit` bytes or a timeout; nil when nothing came.
    public static func readAll(_ fd: Int32, limit: Int = 4096) -> String? {
        var buffer = [UInt8](repeating: 0, count: limit)
        var total = 0
        while total < limit {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + total, limit - total, 0) }
            if n < 0 { return total > 0 ? String(decoding: buffer[..<total], as: UTF8.self) : nil }
            if n == 0 { break }
            total += n
        }
        return String(decoding: buffer[..<total], as: UTF8.self)
    }
}
