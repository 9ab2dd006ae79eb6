import KubeProxyModel

/// An IPVS virtual server as the planner thinks of it: an address, port and protocol with a
/// scheduler, persistence, and its real servers.
public struct VirtualServer: Hashable, Sendable {
    /// What identifies a virtual server in the kernel.
    public struct Key: Hashable, Sendable, Comparable, CustomStringConvertible {
        public var address: IPAddress
        public var port: Int
        public var `protocol`: L4Protocol
        public init(address: IPAddress, port: Int, protocol: L4Protocol) {
            self.address = address
            self.port = port
            self.protocol = `protocol`
        }
        public static func < (a: Key, b: Key) -> Bool { (a.address, a.port, a.protocol) < (b.address, b.port, b.protocol) }
        /// `TCP 198.18.10.10:80`, as ipvsadm lists it.
        public var description: String { "\(`protocol`.rawValue) \(address.joinHostPort(port))" }
    }

    public var key: Key
    public var scheduler: String
    /// `IP_VS_SVC_F_*` without HASHED (the kernel adds it; comparisons ignore it).
    public var flags: UInt32
    /// Persistence (ClientIP affinity) in seconds; 0 for none.
    public var timeout: Int
    public var realServers: [RealServer]

    public init(key: Key, scheduler: String, flags: UInt32 = 0, timeout: Int = 0, realServers: [RealServer] = []) {
        self.key = key
        self.scheduler = scheduler
        self.flags = flags
        self.timeout = timeout
        self.realServers = realServers
    }

    /// The virtual server's own settings equal (real servers not compared).
    public func sameSettings(as other: VirtualServer) -> Bool {
        key == other.key && scheduler == other.scheduler && flags & ~Self.hashedFlag == other.flags & ~Self.hashedFlag && timeout == other.timeout
    }

    public static let persistentFlag: UInt32 = 0x1
    public static let hashedFlag: UInt32 = 0x2
    /// `IP_VS_SVC_F_SCHED2`: mh hashes the source port too (kube-proxy sets it for `mh`).
    public static let mhPortFlag: UInt32 = 0x10
}

/// A real server (destination) of a virtual server.
public struct RealServer: Hashable, Sendable, Comparable {
    public var address: IPAddress
    public var port: Int
    public var weight: Int
    /// Connections the kernel reports (listing only; drive graceful termination).
    public var activeConnections: Int
    public var inactiveConnections: Int

    public init(address: IPAddress, port: Int, weight: Int = 1, activeConnections: Int = 0, inactiveConnections: Int = 0) {
        self.address = address
        self.port = port
        self.weight = weight
        self.activeConnections = activeConnections
        self.inactiveConnections = inactiveConnections
    }

    /// `address:port`, the identity within a virtual server.
    public var endpoint: String { address.joinHostPort(port) }
    public static func < (a: RealServer, b: RealServer) -> Bool { (a.address, a.port) < (b.address, b.port) }
}
