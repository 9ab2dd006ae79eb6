import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KubeProxyModel

/// Measures new-connection cost: connect, read the reply, close; `count` times after a warm-up.
public struct LabLatency {
    public var destination: IPAddress
    public var port: Int
    public var count: Int

    public init(destination: IPAddress, port: Int, count: Int) {
        self.destination = destination
        self.port = port
        self.count = count
    }

    /// Measured connections, failures, and percentiles in µs (printed as JSON by the lab and bench).
    public struct Summary: Codable, Sendable {
        public var samples: Int
        public var failures: Int
        public var p50: Double
        public var p90: Double
        public var p99: Double

        /// One line of JSON (what `latency` prints).
        public func json() throws -> String { String(decoding: try JSONEncoder().encode(self), as: UTF8.self) }
    }

    /// Runs the warm-up and the measured connections.
    public func run() -> Summary {
        var micros: [Double] = []
        var failures = 0
        let warmUp = max(count / 10, 5)
        for i in 0..<(count + warmUp) {
            let start = DispatchTime.now().uptimeNanoseconds
            let ok = once()
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000
            if i < warmUp { continue }
            if ok { micros.append(elapsed) } else { failures += 1 }
        }
        micros.sort()
        func pct(_ p: Double) -> Double { micros.isEmpty ? 0 : micros[min(micros.count - 1, Int(Double(micros.count) * p))] }
        return Summary(samples: micros.count, failures: failures, p50: pct(0.5), p90: pct(0.9), p99: pct(0.99))
    }

    private func once() -> Bool {
        guard let fd = try? Sockets.open(destination.family, Int32(SOCK_STREAM.rawValue)) else { return false }
        defer { close(fd) }
        Sockets.setTimeout(fd, milliseconds: 2000)
        // Close with RST so that no TIME_WAIT piles up across thousands of samples.
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        guard Sockets.connect(fd, destination, port) == 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 256, 0) }
        return n > 0
    }
}
