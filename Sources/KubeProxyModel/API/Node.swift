/// A core/v1 `Node`: its labels (topology), taints (being removed) and addresses (node IPs).
public struct Node: Codable, Hashable, Sendable {
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    /// `spec` of a Node: only its taints matter here.
    public struct Spec: Codable, Hashable, Sendable {
        public var taints: [Taint]?
    }

    /// One entry of `spec.taints`.
    public struct Taint: Codable, Hashable, Sendable {
        public var key: String
        public var value: String?
        public var effect: String?
    }

    /// The taint the Cluster Autoscaler sets before it deletes a node.
    public static let toBeDeletedTaint = "ToBeDeletedByClusterAutoscaler"

    /// Whether load balancers should keep sending traffic here (upstream's node eligibility): not
    /// being deleted, and not tainted for deletion by the Cluster Autoscaler.
    public var isEligible: Bool {
        metadata.deletionTimestamp == nil && !(spec?.taints ?? []).contains { $0.key == Self.toBeDeletedTaint }
    }

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
