import KubeProxyModel

/// The settings of an iptables-mode proxier that shape its rules.
public struct IPTablesCompilerOptions: Hashable, Sendable {
    /// The mark that asks KUBE-POSTROUTING to masquerade, as text (`0x4000` for bit 14).
    public var masqueradeMark: String
    /// Masquerade all traffic to ClusterIPs (`iptables.masqueradeAll`).
    public var masqueradeAll: Bool
    /// How pod traffic is recognised.
    public var localDetector: LocalTrafficDetector
    /// Whether NodePorts answer on 127.0.0.1 (IPv4 only; forced off when nodePortAddresses excludes it).
    public var localhostNodePorts: Bool
    /// Which host addresses NodePorts answer on.
    public var nodePortAddresses: NodePortAddresses
    /// This host's interface addresses of the family (for nodePortAddresses).
    public var hostAddresses: [IPAddress]
    /// The node's primary IP (traffic from it to an LB VIP may pass a source-range firewall).
    public var nodeIP: IPAddress?
    /// Optional kernel and iptables features.
    public var features: KernelFeatures
    /// Above this many endpoints, comments are dropped from endpoint rules (upstream: 1000).
    public var largeClusterEndpointsThreshold: Int
    /// How KUBE-SERVICES reaches a Service's rule (upstream's flat scan by default).
    public var dispatch: IPTablesDispatch = .flat

    public init(masqueradeBit: Int = 14, masqueradeAll: Bool = false, localDetector: LocalTrafficDetector = .none,
                localhostNodePorts: Bool = true, nodePortAddresses: NodePortAddresses, hostAddresses: [IPAddress] = [],
                nodeIP: IPAddress? = nil, features: KernelFeatures = KernelFeatures(),
                largeClusterEndpointsThreshold: Int = 1000) {
        self.masqueradeMark = "0x" + String(1 << masqueradeBit, radix: 16)
        self.masqueradeAll = masqueradeAll
        self.localDetector = localDetector
        self.nodePortAddresses = nodePortAddresses
        self.localhostNodePorts = localhostNodePorts && nodePortAddresses.containsIPv4Loopback
        self.hostAddresses = hostAddresses
        self.nodeIP = nodeIP
        self.features = features
        self.largeClusterEndpointsThreshold = largeClusterEndpointsThreshold
    }
}
