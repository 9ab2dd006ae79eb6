import KubeProxyModel

/// Tells "local" (pod) traffic from the rest, as upstream's `LocalTrafficDetector`.
public enum LocalTrafficDetector: Hashable, Sendable {
    /// No detection: the rules that need it are left out.
    case none
    /// Pod traffic comes from this CIDR (`detectLocalMode: ClusterCIDR` or `NodeCIDR`).
    case cidr(CIDR)
    /// Pod traffic enters through this bridge (`detectLocalMode: BridgeInterface`).
    case bridge(String)
    /// Pod traffic enters through interfaces with this prefix (`detectLocalMode: InterfaceNamePrefix`).
    case interfacePrefix(String)

    /// Whether the detector can tell local traffic at all.
    public var isImplemented: Bool { self != .none }

    /// iptables match arguments for "traffic from a local pod" (iptables and IPVS mode both write them).
    public var ifLocal: [String] {
        switch self {
        case .none: []
        case .cidr(let c): ["-s", c.description]
        case .bridge(let b): ["-i", b]
        case .interfacePrefix(let p): ["-i", p + "+"]
        }
    }

    /// iptables match arguments for "traffic not from a local pod".
    public var ifNotLocal: [String] {
        ifLocal.isEmpty ? [] : ["!"] + ifLocal
    }

    /// The detector a configuration asks for, for one IP family.
    public static func from(_ config: KubeProxyConfiguration, family: IPFamily, nodePodCIDRs: [String] = []) -> LocalTrafficDetector {
        switch config.resolvedDetectLocalMode {
        case "ClusterCIDR":
            let cidrs = (config.clusterCIDR ?? "").split(separator: ",").compactMap { CIDR(sloppy: String($0)) }
            return cidrs.first(where: { $0.family == family }).map { .cidr($0) } ?? .none
        case "NodeCIDR":
            return nodePodCIDRs.compactMap { CIDR(sloppy: $0) }.first(where: { $0.family == family }).map { .cidr($0) } ?? .none
        case "BridgeInterface":
            return (config.detectLocal?.bridgeInterface).flatMap { $0.isEmpty ? nil : .bridge($0) } ?? .none
        case "InterfaceNamePrefix":
            return (config.detectLocal?.interfaceNamePrefix).flatMap { $0.isEmpty ? nil : .interfacePrefix($0) } ?? .none
        default:
            return .none
        }
    }
}
