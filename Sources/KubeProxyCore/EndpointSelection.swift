import KubeProxyModel

/// The endpoints one Service port uses on this node, split the way upstream's
/// `CategorizeEndpoints` splits them.
public struct EndpointSelection: Hashable, Sendable {
    /// Endpoints for traffic under the Cluster policy (after topology hints), if the port uses it.
    public var clusterEndpoints: [Endpoint] = []
    /// Endpoints for traffic under the Local policy, if the port uses it.
    public var localEndpoints: [Endpoint] = []
    /// Every endpoint some traffic can reach: each gets a KUBE-SEP chain.
    public var allReachableEndpoints: [Endpoint] = []
    /// Whether any usable endpoint exists anywhere.
    public var hasAnyEndpoints = false
    /// The port's traffic policies (`internalTrafficPolicy`, `externalTrafficPolicy: Local`) and
    /// which endpoint kinds it needs: the policy decisions of ``EndpointSelection+Policy.swift`` read them.
    public var internalPolicyLocal = false, externalPolicyLocal = false
    var needsClusterEndpoints = false, needsLocalEndpoints = false

    /// Selects the endpoints of `service` among `endpoints`, as seen from node `nodeName`.
    ///
    /// Ready endpoints are used; when none is ready, serving-and-terminating ones are used instead.
    /// Topology hints restrict Cluster-policy endpoints to this node's zone (or this node) when every
    /// ready endpoint carries hints and some hint matches.
    public init(service: ServicePortInfo, endpoints: [Endpoint], nodeName: String, nodeLabels: [String: String]) {
        internalPolicyLocal = service.internalPolicyLocal
        externalPolicyLocal = service.externalPolicyLocal
        needsClusterEndpoints = service.usesClusterEndpoints
        needsLocalEndpoints = service.usesLocalEndpoints
        if service.usesClusterEndpoints {
            let topology = Self.topologyFilter(endpoints, nodeName: nodeName, zone: nodeLabels[Node.zoneLabel] ?? "")
            clusterEndpoints = endpoints.filter { $0.ready && (topology?($0) ?? true) }
            if clusterEndpoints.isEmpty {
                clusterEndpoints = endpoints.filter { $0.serving && $0.terminating }
            }
            hasAnyEndpoints = !clusterEndpoints.isEmpty
        }
        guard service.usesLocalEndpoints else {
            allReachableEndpoints = clusterEndpoints
            return
        }
        var hasLocalReady = false, hasLocalServingTerminating = false
        for ep in endpoints {
            if ep.ready {
                hasAnyEndpoints = true
                if ep.isLocal { hasLocalReady = true }
            } else if ep.serving && ep.terminating {
                hasAnyEndpoints = true
                if ep.isLocal { hasLocalServingTerminating = true }
            }
        }
        if hasLocalReady {
            localEndpoints = endpoints.filter { $0.isLocal && $0.ready }
        } else if hasLocalServingTerminating {
            localEndpoints = endpoints.filter { $0.isLocal && $0.serving && $0.terminating }
        }
        guard service.usesClusterEndpoints else {
            allReachableEndpoints = localEndpoints
            return
        }
        var merged: [String: Endpoint] = [:]
        for ep in clusterEndpoints + localEndpoints { merged[ep.description] = ep }
        allReachableEndpoints = merged.values.sorted()
    }

    /// The endpoints of `service` in `state`, as seen from its node.
    public init(service: ServicePortInfo, state: ProxyState) {
        self.init(service: service, endpoints: state.endpoints[service.name] ?? [], nodeName: state.nodeName, nodeLabels: state.nodeLabels)
    }

    /// The topology predicate to apply, or nil when topology cannot be used.
    static func topologyFilter(_ endpoints: [Endpoint], nodeName: String, zone: String) -> ((Endpoint) -> Bool)? {
        var hasForNode = false, hasForZone = false, sawReady = false
        for ep in endpoints where ep.ready {
            sawReady = true
            if ep.zoneHints.isEmpty { return nil }
            if ep.nodeHints.contains(nodeName) { hasForNode = true }
            if !zone.isEmpty && ep.zoneHints.contains(zone) { hasForZone = true }
        }
        guard sawReady else { return nil }
        if hasForNode { return { $0.nodeHints.contains(nodeName) } }
        if hasForZone { return { $0.zoneHints.contains(zone) } }
        return nil
    }
}
