import KubeProxyModel

/// One endpoint (`ip:port`) of a Service port, with its conditions as kube-proxy reads them.
public struct Endpoint: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var ip: IPAddress
    public var port: Int
    public var isLocal: Bool
    public var ready: Bool
    public var serving: Bool
    public var terminating: Bool
    public var zoneHints: Set<String>
    public var nodeHints: Set<String>
    /// `ip:port` (`[ip]:port` for IPv6), precomputed: it names the SEP chain and orders endpoints.
    public let description: String

    public init(ip: IPAddress, port: Int, isLocal: Bool = false, ready: Bool = true, serving: Bool = true,
                terminating: Bool = false, zoneHints: Set<String> = [], nodeHints: Set<String> = []) {
        self.ip = ip
        self.port = port
        self.isLocal = isLocal
        self.ready = ready
        self.serving = serving
        self.terminating = terminating
        self.zoneHints = zoneHints
        self.nodeHints = nodeHints
        self.description = ip.joinHostPort(port)
    }

    /// Endpoints sort as strings of `ip:port`, as upstream does (`10.1.1.11:11` before `10.1.1.1:11`).
    public static func < (lhs: Endpoint, rhs: Endpoint) -> Bool { lhs.description < rhs.description }
}
