/// The traffic-policy decisions every dataplane takes from one selection, as upstream's proxiers
/// take them after `CategorizeEndpoints`: which policy chains exist, where internal and external
/// traffic go, and whether each has somewhere to go.
extension EndpointSelection {
    /// Whether the Cluster-policy chain (`KUBE-SVC-*`, nft `service-*`) is written.
    public var usesClusterPolicy: Bool { !clusterEndpoints.isEmpty && needsClusterEndpoints }
    /// Whether the Local-policy chain (`KUBE-SVL-*`, nft `local-*`) is written.
    public var usesLocalPolicy: Bool { !localEndpoints.isEmpty && needsLocalEndpoints }

    /// Whether traffic from inside the cluster (ClusterIP) has an endpoint: with
    /// `internalTrafficPolicy: Local` only a local one counts.
    public var hasInternalEndpoints: Bool { hasAnyEndpoints && !(internalPolicyLocal && localEndpoints.isEmpty) }
    /// Whether traffic from outside (NodePort, external and LoadBalancer IPs) has an endpoint: with
    /// `externalTrafficPolicy: Local` only a local one counts.
    public var hasExternalEndpoints: Bool { hasAnyEndpoints && !(externalPolicyLocal && localEndpoints.isEmpty) }

    /// IPVS mode's real servers for internal traffic (the ClusterIP virtual server).
    public var ipvsInternalEndpoints: [Endpoint] { ipvsEndpoints(policyLocal: internalPolicyLocal) }
    /// IPVS mode's real servers for external traffic (NodePort, external and LoadBalancer IPs).
    public var ipvsExternalEndpoints: [Endpoint] { ipvsEndpoints(policyLocal: externalPolicyLocal) }

    /// Upstream's IPVS `syncEndpoint`: a Local policy uses the node's endpoints, and the cluster's
    /// when the node has none (kubernetes/kubernetes#97081: pods on this node still reach the
    /// Service; external traffic's replies would not come back, as upstream documents).
    func ipvsEndpoints(policyLocal: Bool) -> [Endpoint] {
        policyLocal && !localEndpoints.isEmpty ? localEndpoints : clusterEndpoints
    }
}
