import KubeProxyModel

/// The settings every mode's rules share: masquerading, local-traffic detection, where NodePorts
/// answer, and this host's and node's addresses (of one IP family).
public struct ProxierOptions: Hashable, Sendable {
    /// The mark that asks for masquerading, as text (`0x4000` for bit 14).
    public var masqueradeMark: String
    /// Masquerade all traffic to ClusterIPs (`masqueradeAll`).
    public var masqueradeAll: Bool
    /// How pod traffic is recognised.
    public var localDetector: LocalTrafficDetector
    /// Whether NodePorts answer on 127.0.0.1 (IPv4 only; forced off when nodePortAddresses excludes it).
    public var localhostNodePorts: Bool
    /// Which host addresses NodePorts answer on.
    public var nodePortAddresses: NodePortAddresses
    /// This host's interface addresses of the family (for nodePortAddresses).
    public var hostAddresses: [IPAddress]
    /// The node's IP of the family (traffic from it to an LB VIP may pass a source-range firewall).
    public var nodeIP: IPAddress?
    /// How nftables mode lays out endpoint choice (`nftables.layout`; upstream's by default).
    public var nftablesLayout: NFTablesLayout = .upstream

    public init(masqueradeBit: Int = 14, masqueradeAll: Bool = false, localDetector: LocalTrafficDetector = .none,
                localhostNodePorts: Bool = true, nodePortAddresses: NodePortAddresses, hostAddresses: [IPAddress] = [], nodeIP: IPAddress? = nil) {
        self.masqueradeMark = "0x" + String(1 << masqueradeBit, radix: 16)
        self.masqueradeAll = masqueradeAll
        self.localDetector = localDetector
        self.nodePortAddresses = nodePortAddresses
        self.localhostNodePorts = localhostNodePorts && nodePortAddresses.containsIPv4Loopback
        self.hostAddresses = hostAddresses
        self.nodeIP = nodeIP
    }

    /// The options a proxier of `family` runs with, from its configuration and host facts.
    /// - Parameters:
    ///   - nodeIP: the node's IP of this family (from `bindAddress` or the Node object).
    ///   - hostAddresses: this host's interface addresses (all families; filtered here).
    public init(config: KubeProxyConfiguration, family: IPFamily, nodeIP: IPAddress?, nodePodCIDRs: [String] = [], hostAddresses: [IPAddress]) {
        self.init(masqueradeBit: config.resolvedMasqueradeBit, masqueradeAll: config.resolvedMasqueradeAll,
                  localDetector: .from(config, family: family, nodePodCIDRs: nodePodCIDRs),
                  localhostNodePorts: config.resolvedLocalhostNodePorts && family == .ipv4,
                  nodePortAddresses: NodePortAddresses(config.nodePortAddresses ?? [], family: family, nodeIPs: nodeIP.map { [$0] } ?? []),
                  hostAddresses: hostAddresses.filter { $0.family == family }, nodeIP: nodeIP)
        nftablesLayout = NFTablesLayout(rawValue: config.nftables?.layout ?? "") ?? .upstream
    }
}

/// Which Services' own rules a sync writes, in every mode.
public enum SyncScope: Hashable, Sendable {
    /// All of them.
    case full
    /// Only those of the Services (`namespace/name`) that changed since the last successful sync.
    case partial(changedServices: Set<String>)
}
