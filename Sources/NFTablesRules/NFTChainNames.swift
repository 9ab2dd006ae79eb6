import KubeProxyCore

/// kube-proxy's nftables names: `<prefix><HASH8>-<ns>/<svc>/<proto>/<port>` (with `__<ip>/<port>`
/// for endpoints), where HASH8 is the first 8 base32 characters of the SHA-256 of the rest.
public enum NFTChainNames {
    static func hashAndTruncate(_ base: String) -> String {
        let full = ChainNames.hash(base, length: 8) + "-" + base
        return full.count > 240 ? String(full.prefix(237)) + "..." : full
    }

    /// `ns/svc/proto/port`, the name parts through ``NFTText``.
    public static func base(_ name: ServicePortName) -> String {
        "\(NFTText.namePart(name.namespace))/\(NFTText.namePart(name.name))/\(name.protocol.lowercased)/\(NFTText.namePart(name.port))"
    }

    public static func service(_ name: ServicePortName) -> String { "service-" + hashAndTruncate(base(name)) }
    public static func local(_ name: ServicePortName) -> String { "local-" + hashAndTruncate(base(name)) }
    public static func external(_ name: ServicePortName) -> String { "external-" + hashAndTruncate(base(name)) }
    public static func firewall(_ name: ServicePortName) -> String { "firewall-" + hashAndTruncate(base(name)) }

    /// The endpoint maps of the `endpoint-maps` layout, for the cluster and the local policy.
    public static func clusterEndpoints(_ name: ServicePortName) -> String { "cluster-endpoints-" + hashAndTruncate(base(name)) }
    public static func localEndpoints(_ name: ServicePortName) -> String { "local-endpoints-" + hashAndTruncate(base(name)) }

    /// Whether `set` is a Service port's own set or map (affinity sets, endpoint maps).
    public static func isServiceSet(_ set: String) -> Bool {
        set.hasPrefix("affinity-") || set.hasPrefix("cluster-endpoints-") || set.hasPrefix("local-endpoints-")
    }

    static func endpointBase(_ name: ServicePortName, _ ep: Endpoint) -> String {
        let ip = ep.ip.description
        return base(name) + "__" + (ip.utf8.contains(UInt8(ascii: ":")) ? String(ip.map { $0 == ":" ? "." : $0 }) : ip) + "/" + String(ep.port)
    }

    public static func endpoint(_ name: ServicePortName, _ ep: Endpoint) -> String { "endpoint-" + hashAndTruncate(endpointBase(name, ep)) }
    public static func affinity(_ name: ServicePortName, _ ep: Endpoint) -> String { "affinity-" + hashAndTruncate(endpointBase(name, ep)) }

    /// Whether `chain` is a per-service or per-endpoint chain (they all contain a `/`).
    public static func isServiceChain(_ chain: String) -> Bool { chain.contains("/") }
}
