import KubeProxyModel

/// One of the ipsets IPVS mode keeps (upstream's `ipsetInfo` table): its name, type, and the
/// comment that iptables rules matching it carry.
public struct IPVSIPSet: Hashable, Sendable, Comparable {
    /// The ipset types IPVS mode uses.
    public enum Kind: String, Hashable, Sendable {
        case hashIP = "hash:ip"
        case hashIPPort = "hash:ip,port"
        case hashIPPortIP = "hash:ip,port,ip"
        case hashIPPortNet = "hash:ip,port,net"
        case bitmapPort = "bitmap:port"

        /// The `--match-set` direction flags upstream uses for this type.
        public var matchType: String {
            switch self {
            case .hashIP, .bitmapPort: "dst"
            case .hashIPPort: "dst,dst"
            case .hashIPPortIP, .hashIPPortNet: "dst,dst,src"
            }
        }
    }

    /// The IPv4 name (`KUBE-...`); see ``name(for:)`` for IPv6.
    public var baseName: String
    public var kind: Kind
    public var comment: String

    /// The set's name in `family`: IPv6 sets are `KUBE-6-...`, cut to ipset's 31 characters.
    public func name(for family: IPFamily) -> String {
        guard family == .ipv6 else { return baseName }
        return String(("KUBE-6-" + baseName.dropFirst("KUBE-".count)).prefix(31))
    }

    /// `create` arguments after the type (`ipset create NAME TYPE ...`).
    public func createOptions(for family: IPFamily) -> String {
        kind == .bitmapPort ? "range 0-65535" : "family \(family == .ipv4 ? "inet" : "inet6") hashsize 1024 maxelem 65536"
    }

    public static func < (a: IPVSIPSet, b: IPVSIPSet) -> Bool { a.baseName < b.baseName }
}

extension IPVSIPSet {
    public static let loopBack = IPVSIPSet(baseName: "KUBE-LOOP-BACK", kind: .hashIPPortIP, comment: "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose")
    public static let clusterIP = IPVSIPSet(baseName: "KUBE-CLUSTER-IP", kind: .hashIPPort, comment: "Kubernetes service cluster ip + port for masquerade purpose")
    public static let externalIP = IPVSIPSet(baseName: "KUBE-EXTERNAL-IP", kind: .hashIPPort, comment: "Kubernetes service external ip + port for masquerade and filter purpose")
    public static let externalIPLocal = IPVSIPSet(baseName: "KUBE-EXTERNAL-IP-LOCAL", kind: .hashIPPort, comment: "Kubernetes service external ip + port with externalTrafficPolicy=local")
    public static let loadBalancer = IPVSIPSet(baseName: "KUBE-LOAD-BALANCER", kind: .hashIPPort, comment: "Kubernetes service lb portal")
    public static let loadBalancerFW = IPVSIPSet(baseName: "KUBE-LOAD-BALANCER-FW", kind: .hashIPPort, comment: "Kubernetes service load balancer ip + port for load balancer with sourceRange")
    public static let loadBalancerLocal = IPVSIPSet(baseName: "KUBE-LOAD-BALANCER-LOCAL", kind: .hashIPPort, comment: "Kubernetes service load balancer ip + port with externalTrafficPolicy=local")
    public static let loadBalancerSourceIP = IPVSIPSet(baseName: "KUBE-LOAD-BALANCER-SOURCE-IP", kind: .hashIPPortIP, comment: "Kubernetes service load balancer ip + port + source IP for packet filter purpose")
    public static let loadBalancerSourceCIDR = IPVSIPSet(baseName: "KUBE-LOAD-BALANCER-SOURCE-CIDR", kind: .hashIPPortNet, comment: "Kubernetes service load balancer ip + port + source cidr for packet filter purpose")
    public static let nodePortTCP = IPVSIPSet(baseName: "KUBE-NODE-PORT-TCP", kind: .bitmapPort, comment: "Kubernetes nodeport TCP port for masquerade purpose")
    public static let nodePortLocalTCP = IPVSIPSet(baseName: "KUBE-NODE-PORT-LOCAL-TCP", kind: .bitmapPort, comment: "Kubernetes nodeport TCP port with externalTrafficPolicy=local")
    public static let nodePortUDP = IPVSIPSet(baseName: "KUBE-NODE-PORT-UDP", kind: .bitmapPort, comment: "Kubernetes nodeport UDP port for masquerade purpose")
    public static let nodePortLocalUDP = IPVSIPSet(baseName: "KUBE-NODE-PORT-LOCAL-UDP", kind: .bitmapPort, comment: "Kubernetes nodeport UDP port with externalTrafficPolicy=local")
    public static let nodePortSCTP = IPVSIPSet(baseName: "KUBE-NODE-PORT-SCTP-HASH", kind: .hashIPPort, comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'")
    public static let nodePortLocalSCTP = IPVSIPSet(baseName: "KUBE-NODE-PORT-LOCAL-SCTP-HASH", kind: .hashIPPort, comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'")
    public static let healthCheckNodePort = IPVSIPSet(baseName: "KUBE-HEALTH-CHECK-NODE-PORT", kind: .bitmapPort, comment: "Kubernetes health check node port")
    public static let ipvsIPs = IPVSIPSet(baseName: "KUBE-IPVS-IPS", kind: .hashIP, comment: "Addresses on the ipvs interface")

    /// All 17, in upstream's table order.
    public static let all: [IPVSIPSet] = [
        loopBack, clusterIP, externalIP, externalIPLocal, loadBalancer, loadBalancerFW, loadBalancerLocal, loadBalancerSourceIP,
        loadBalancerSourceCIDR, nodePortTCP, nodePortLocalTCP, nodePortUDP, nodePortLocalUDP, nodePortSCTP, nodePortLocalSCTP,
        healthCheckNodePort, ipvsIPs,
    ]
}
