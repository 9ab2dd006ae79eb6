/// A core/v1 `Node`: its labels (topology) and addresses (node IPs).
public struct Node: Codable, Hashable, Sendable {
    public var metadata: ObjectMeta
    public var status: Status?

    /// `status` of a Node.
    public struct Status: Codable, Hashable, Sendable {
        public var addresses: [Address]?
    }

    /// One entry of `status.addresses`.
    public struct Address: Codable, Hashable, Sendable {
        public var type: String
        public var address: String
    }

    /// The label that carries the node's zone.
    public static let zoneLabel = "topology.kubernetes.io/zone"

    /// The node's addresses of type `InternalIP`, then `ExternalIP`, parsed; unparseable ones are skipped.
    public var nodeIPs: [IPAddress] {
        let addresses = status?.addresses ?? []
        let ordered = addresses.filter { $0.type == "InternalIP" } + addresses.filter { $0.type == "ExternalIP" }
        return ordered.compactMap { IPAddress(sloppy: $0.address) }
    }
}
