import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KubeProxyModel

/// A long-lived lab client connection (`skp-lab hold`): connect and read the server's name, later ask
/// again on the same connection, and finally close with a reset (SO_LINGER 0), so that IPVS sees
/// the connection end at once instead of lingering in TIME_WAIT.
public final class LabHold {
    public let destination: IPAddress
    public let port: Int
    private var fd: Int32 = -1

    public init(destination: IPAddress, port: Int) {
        self.destination = destination
        self.port = port
    }

    /// Connects and returns the first answer (the pod's name), or why there is none.
    public func connect() -> String {
        guard let opened = try? Sockets.open(destination.family, Int32(SOCK_STREAM.rawValue)) else { return "error:socket" }
        fd = opened
        Sockets.setTimeout(fd, milliseconds: 3000)
        let rc = Sockets.connect(fd, destination, port)
        if rc == ECONNREFUSED { return "refused" }
        if rc != 0 { return "error:\(rc)" }
        return readLine()
    }

    /// Sends a line on the open connection and returns the answer, or `broken`.
    public func ask() -> String {
        guard fd >= 0 else { return "broken" }
        let line = Array("again\n".utf8)
        guard line.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == line.count else { return "broken" }
        return readLine()
    }

    /// Closes with a reset.
    public func reset() {
        guard fd >= 0 else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(fd)
        fd = -1
    }

    private func readLine() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 256, 0) }
        guard n > 0 else { return n == 0 ? "broken" : (errno == EAGAIN ? "timeout" : "broken") }
        return String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
