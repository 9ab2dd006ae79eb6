import KubeProxyModel

/// An immutable snapshot of everything a sync compiles: the Service ports of one IP family, their
/// endpoints, and facts about this node.
public struct ProxyState: Sendable, Hashable {
    /// The IP family this state is for.
    public var family: IPFamily
    /// This node's name (endpoints with this `nodeName` are local).
    public var nodeName: String
    /// This node's labels (the zone label drives topology hints).
    public var nodeLabels: [String: String]
    /// Service ports by name.
    public var services: [ServicePortName: ServicePortInfo]
    /// Endpoints by Service port name, deduplicated and sorted as upstream sorts them.
    public var endpoints: [ServicePortName: [Endpoint]]
    /// ClusterIP ranges from ServiceCIDR objects of this family.
    public var serviceCIDRs: [CIDR]

    public init(family: IPFamily, nodeName: String, nodeLabels: [String: String] = [:],
                services: [ServicePortName: ServicePortInfo] = [:],
                endpoints: [ServicePortName: [Endpoint]] = [:], serviceCIDRs: [CIDR] = []) {
        self.family = family
        self.nodeName = nodeName
        self.nodeLabels = nodeLabels
        self.services = services
        self.endpoints = endpoints
        self.serviceCIDRs = serviceCIDRs
    }

    /// Service port names in a stable order (namespace, name, port, protocol).
    public var sortedServicePortNames: [ServicePortName] { services.keys.sorted() }

    /// The total number of endpoints over all Service ports (upstream's large-cluster measure).
    public var totalEndpointCount: Int {
        services.keys.reduce(0) { $0 + (endpoints[$1]?.count ?? 0) }
    }

    /// The `namespace/name` of every Service whose ports or endpoints differ from `previous`.
    public func changedServices(since previous: ProxyState) -> Set<String> {
        var changed = Set<String>()
        for (name, info) in services where previous.services[name] != info { changed.insert(name.namespacedName) }
        for name in previous.services.keys where services[name] == nil { changed.insert(name.namespacedName) }
        for (name, eps) in endpoints where previous.endpoints[name] != eps { changed.insert(name.namespacedName) }
        for name in previous.endpoints.keys where endpoints[name] == nil { changed.insert(name.namespacedName) }
        return changed
    }
}
