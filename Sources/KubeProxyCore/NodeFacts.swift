import KubeProxyModel

/// What kube-proxy works out about its own node: its name, primary IP family and node IP.
public struct NodeFacts: Hashable, Sendable {
    /// The node name (`hostnameOverride`, else the host name).
    public var name: String
    /// The Node object, when one was found.
    public var node: Node?
    /// The primary IP family (upstream's `detectNodeIPs`).
    public var primaryFamily: IPFamily
    /// The node IP of each family, if known.
    public var nodeIPs: [IPFamily: IPAddress]
    /// The families this node proxies, the primary first: the other family too when the node is
    /// dual-stack, i.e. when it has a node IP of each family or `clusterCIDR` names both.
    /// (Upstream programs both whenever the kernel has both; a single-stack node here programs
    /// one, and nothing of a family no Service of its cluster can have.)
    public var families: [IPFamily]

    /// Works out the facts: the primary family is that of `bindAddress` when set and not
    /// unspecified, else that of the Node's first address, else IPv4.
    public init(config: KubeProxyConfiguration, nodes: [Node], hostname: String) {
        let override = config.hostnameOverride?.trimmingSpaces() ?? ""
        name = override.isEmpty ? hostname.lowercased() : String(override)
        let nodeName = name
        let found = nodes.first { $0.metadata.name == nodeName }
        node = found
        let addresses = found?.nodeIPs ?? []
        var ips: [IPFamily: IPAddress] = [:]
        for ip in addresses where ips[ip.family] == nil { ips[ip.family] = ip }
        if let text = config.bindAddress, let bind = IPAddress(sloppy: text), !bind.isUnspecified {
            primaryFamily = bind.family
            ips[bind.family] = bind
        } else {
            primaryFamily = addresses.first?.family ?? .ipv4
        }
        nodeIPs = ips
        let secondary: IPFamily = primaryFamily == .ipv4 ? .ipv6 : .ipv4
        let clusterFamilies = Set((config.clusterCIDR ?? "").split(separator: ",").compactMap { CIDR(sloppy: String($0))?.family })
        families = ips[secondary] != nil || (clusterFamilies.contains(secondary) && clusterFamilies.contains(primaryFamily))
            ? [primaryFamily, secondary] : [primaryFamily]
    }
}
