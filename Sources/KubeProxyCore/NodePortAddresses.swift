import KubeProxyModel

/// Which host addresses NodePorts answer on (`nodePortAddresses`), as upstream's `NodePortAddresses`.
public struct NodePortAddresses: Hashable, Sendable {
    /// The prefixes of this family; empty never happens (a zero CIDR means all).
    public let cidrs: [CIDR]
    /// Whether every address matches (no list, or a zero CIDR in it).
    public let matchAll: Bool
    /// Whether 127.0.0.1 can be a NodePort address (localhost NodePorts need it).
    public let containsIPv4Loopback: Bool

    /// Filters `entries` to `family`; `primary` stands for the node's own IPs.
    public init(_ entries: [String], family: IPFamily, nodeIPs: [IPAddress] = []) {
        var list: [CIDR] = []
        for entry in entries {
            if entry == "primary" {
                list += nodeIPs.filter { $0.family == family }
                    .map { CIDR(address: $0, prefixLength: family == .ipv4 ? 32 : 128) }
            } else if let cidr = CIDR(sloppy: entry), cidr.family == family {
                list.append(cidr)
            }
        }
        if list.isEmpty || list.contains(where: { $0.prefixLength == 0 }) {
            cidrs = [CIDR(address: family == .ipv4 ? .v4(0) : .v6(0, 0), prefixLength: 0)]
            matchAll = true
        } else {
            cidrs = list
            matchAll = false
        }
        let loopback = IPAddress.v4(0x7f00_0001)
        containsIPv4Loopback = family == .ipv4 && cidrs.contains { $0.contains(loopback) }
    }

    /// The host addresses that match, deduplicated and sorted.
    public func matchingAddresses(_ hostAddresses: [IPAddress]) -> [IPAddress] {
        Array(Set(hostAddresses.filter { ip in cidrs.contains { $0.contains(ip) } })).sorted()
    }
}
