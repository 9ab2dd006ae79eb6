import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KubeProxyModel

/// A pod's server in the lab: on every TCP port it answers each connection with a short HTTP
/// response whose body is its name; on every UDP port it answers each datagram with its name; on
/// every "hold" TCP port it keeps the connection open and answers each line with its name (for
/// checking that an established connection survives an endpoint's removal).
public struct LabServer {
    public var name: String
    public var tcpPorts: [Int]
    public var udpPorts: [Int]
    public var holdPorts: [Int]
    public var family: IPFamily

    public init(name: String, tcpPorts: [Int], udpPorts: [Int] = [], holdPorts: [Int] = [], family: IPFamily = .ipv4) {
        self.name = name
        self.tcpPorts = tcpPorts
        self.udpPorts = udpPorts
        self.holdPorts = holdPorts
        self.family = family
    }

    /// Ports from a comma-separated list (`8080,9090`).
    public static func ports(_ list: String) -> [Int] { list.split(separator: ",").compactMap { Int($0) } }

    /// Serves forever (one thread per listening socket).
    public func run() throws -> Never {
        let any: IPAddress = family == .ipv4 ? .v4(0) : .v6(0, 0)
        func listener(_ port: Int) throws -> Int32 {
            let fd = try Sockets.open(family, Int32(SOCK_STREAM.rawValue))
            try Sockets.bind(fd, any, port)
            guard listen(fd, 512) == 0 else { throw Sockets.Failure(call: "listen", code: errno) }
            return fd
        }
        for port in tcpPorts {
            let fd = try listener(port)
            let reply = Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n\(name)\n".utf8)
            Thread.detachNewThread {
                while true {
                    let client = accept(fd, nil, nil)
                    if client < 0 { continue }
                    _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    shutdown(client, Int32(SHUT_WR))
                    Sockets.setTimeout(client, milliseconds: 200)
                    var sink = [UInt8](repeating: 0, count: 512)
                    _ = sink.withUnsafeMutableBytes { recv(client, $0.baseAddress, 512, 0) }
                    close(client)
                }
            }
        }
        for port in holdPorts {
            let fd = try listener(port)
            let reply = Array("\(name)\n".utf8)
            Thread.detachNewThread {
                while true {
                    let client = accept(fd, nil, nil)
                    if client < 0 { continue }
                    Thread.detachNewThread {
                        var buffer = [UInt8](repeating: 0, count: 512)
                        repeat {
                            guard reply.withUnsafeBytes({ send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) > 0 else { break }
                        } while buffer.withUnsafeMutableBytes({ recv(client, $0.baseAddress, 512, 0) }) > 0
                        close(client)
                    }
                }
            }
        }
        for port in udpPorts {
            let fd = try Sockets.open(family, Int32(SOCK_DGRAM.rawValue))
            try Sockets.bind(fd, any, port)
            let reply = Array("\(name)\n".utf8)
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 2048)
                while true {
                    var peer = sockaddr_storage()
                    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                    let n = withUnsafeMutablePointer(to: &peer) { p in
                        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                            buffer.withUnsafeMutableBytes { recvfrom(fd, $0.baseAddress, 2048, 0, sa, &length) }
                        }
                    }
                    if n < 0 { continue }
                    _ = withUnsafePointer(to: &peer) { p in
                        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                            reply.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, length) }
                        }
                    }
                }
            }
        }
        FileHandle.standardOutput.write(Data("\(name) serving tcp \(tcpPorts) udp \(udpPorts) hold \(holdPorts)\n".utf8))
        while true { sleep(3600) }
    }
}
