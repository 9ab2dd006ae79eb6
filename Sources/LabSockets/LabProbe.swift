import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KubeProxyModel

/// A lab client: opens `count` connections (or sends `count` datagrams) to `ip:port` and tallies
/// who answered; `refused` and `timeout` are tallied too.
public struct LabProbe {
    public var destination: IPAddress
    public var port: Int
    public var udp: Bool
    public var count: Int
    public var source: IPAddress?
    public var sourcePort: Int?
    public var timeoutMilliseconds: Int

    public init(destination: IPAddress, port: Int, udp: Bool = false, count: Int, source: IPAddress? = nil,
                sourcePort: Int? = nil, timeoutMilliseconds: Int) {
        self.destination = destination
        self.port = port
        self.udp = udp
        self.count = count
        self.source = source
        self.sourcePort = sourcePort
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// One attempt's outcome: the answering pod's name, `refused`, `timeout` or `error:...`.
    public func attempt(reusing udpSocket: Int32? = nil) -> String {
        if udp {
            let fd: Int32
            if let udpSocket { fd = udpSocket } else {
                guard let opened = try? openUDP() else { return "error:socket" }
                fd = opened
            }
            defer { if udpSocket == nil { close(fd) } }
            let payload = Array("who\n".utf8)
            let sent = payload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            if sent < 0 { return errno == ECONNREFUSED ? "refused" : "error:\(errno)" }
            var buffer = [UInt8](repeating: 0, count: 512)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 512, 0) }
            if n < 0 { return errno == ECONNREFUSED ? "refused" : (errno == EAGAIN ? "timeout" : "error:\(errno)") }
            return String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let fd = try? Sockets.open(destination.family, Int32(SOCK_STREAM.rawValue)) else { return "error:socket" }
        defer { close(fd) }
        Sockets.setTimeout(fd, milliseconds: timeoutMilliseconds)
        if let source { try? Sockets.bind(fd, source, sourcePort ?? 0) }
        let rc = Sockets.connect(fd, destination, port)
        if rc == ECONNREFUSED { return "refused" }
        if rc == EINPROGRESS || rc == EAGAIN || rc == ETIMEDOUT { return "timeout" }
        if rc == EHOSTUNREACH || rc == ENETUNREACH { return "unreachable" }
        if rc != 0 { return "error:\(rc)" }
        guard let text = Sockets.readAll(fd) else { return "timeout" }
        return text.split(whereSeparator: \.isNewline).last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    }

    /// A connected UDP socket (bound to the source address and port when given).
    public func openUDP() throws -> Int32 {
        let fd = try Sockets.open(destination.family, Int32(SOCK_DGRAM.rawValue))
        Sockets.setTimeout(fd, milliseconds: timeoutMilliseconds)
        if source != nil || sourcePort != nil {
            try Sockets.bind(fd, source ?? (destination.family == .ipv4 ? .v4(0) : .v6(0, 0)), sourcePort ?? 0)
        }
        _ = Sockets.connect(fd, destination, port)
        return fd
    }

    /// Runs every attempt; with a fixed UDP source port, one socket is reused (one conntrack flow).
    public func run() -> [String] {
        var outcomes: [String] = []
        let shared: Int32? = (udp && sourcePort != nil) ? try? openUDP() : nil
        defer { if let shared { close(shared) } }
        for _ in 0..<count { outcomes.append(attempt(reusing: shared)) }
        return outcomes
    }

    /// The tally of `outcomes`: one `name count` line per outcome, in name order.
    public static func tally(_ outcomes: [String]) -> [String] {
        var counts: [String: Int] = [:]
        for o in outcomes { counts[o, default: 0] += 1 }
        return counts.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }
    }
}
