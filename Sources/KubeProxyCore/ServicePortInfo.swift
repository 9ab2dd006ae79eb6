import KubeProxyModel

/// Everything kube-proxy needs to know about one Service port, for one IP family.
public struct ServicePortInfo: Hashable, Sendable {
    public var name: ServicePortName
    public var clusterIP: IPAddress
    public var port: Int
    public var nodePort: Int
    public var externalIPs: [IPAddress]
    public var loadBalancerVIPs: [IPAddress]
    public var loadBalancerSourceRanges: [CIDR]
    /// The ClientIP affinity timeout in seconds, or nil without affinity.
    public var stickyMaxAgeSeconds: Int?
    public var externalPolicyLocal: Bool
    public var internalPolicyLocal: Bool
    public var healthCheckNodePort: Int

    public init(name: ServicePortName, clusterIP: IPAddress, port: Int, nodePort: Int = 0,
                externalIPs: [IPAddress] = [], loadBalancerVIPs: [IPAddress] = [],
                loadBalancerSourceRanges: [CIDR] = [], stickyMaxAgeSeconds: Int? = nil,
                externalPolicyLocal: Bool = false, internalPolicyLocal: Bool = false,
                healthCheckNodePort: Int = 0) {
        self.name = name
        self.clusterIP = clusterIP
        self.port = port
        self.nodePort = nodePort
        self.externalIPs = externalIPs
        self.loadBalancerVIPs = loadBalancerVIPs
        self.loadBalancerSourceRanges = loadBalancerSourceRanges
        self.stickyMaxAgeSeconds = stickyMaxAgeSeconds
        self.externalPolicyLocal = externalPolicyLocal
        self.internalPolicyLocal = internalPolicyLocal
        self.healthCheckNodePort = healthCheckNodePort
    }

    /// The protocol of the port.
    public var `protocol`: L4Protocol { name.protocol }

    /// Whether traffic can reach the port from outside the cluster (NodePort, LB VIP or external IP).
    public var externallyAccessible: Bool {
        nodePort != 0 || !loadBalancerVIPs.isEmpty || !externalIPs.isEmpty
    }

    /// Whether some traffic to the port is sent to endpoints on any node.
    public var usesClusterEndpoints: Bool { !internalPolicyLocal || externallyAccessible }

    /// Whether some traffic to the port is sent only to endpoints on this node.
    public var usesLocalEndpoints: Bool { internalPolicyLocal || (externalPolicyLocal && externallyAccessible) }
}
