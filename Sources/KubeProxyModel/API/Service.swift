/// A core/v1 `Service`, with the fields kube-proxy reads.
public struct Service: Codable, Hashable, Sendable {
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    public init(metadata: ObjectMeta, spec: Spec, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// `spec` of a Service.
    public struct Spec: Codable, Hashable, Sendable {
        public var type: String?
        public var clusterIP: String?
        public var clusterIPs: [String]?
        public var ipFamilies: [String]?
        public var ports: [Port]?
        public var externalIPs: [String]?
        public var loadBalancerSourceRanges: [String]?
        public var sessionAffinity: String?
        public var sessionAffinityConfig: SessionAffinityConfig?
        public var externalTrafficPolicy: String?
        public var internalTrafficPolicy: String?
        public var healthCheckNodePort: Int?
        public var trafficDistribution: String?
        public var externalName: String?

        public init(type: String? = nil, clusterIP: String? = nil, ports: [Port]? = nil) {
            self.type = type
            self.clusterIP = clusterIP
            self.ports = ports
        }
    }

    /// One entry of `spec.ports`.
    public struct Port: Codable, Hashable, Sendable {
        public var name: String?
        public var `protocol`: String?
        public var port: Int?
        public var nodePort: Int?

        public init(name: String? = nil, protocol: String? = nil, port: Int? = nil, nodePort: Int? = nil) {
            self.name = name
            self.protocol = `protocol`
            self.port = port
            self.nodePort = nodePort
        }

        enum CodingKeys: String, CodingKey { case name, `protocol`, port, nodePort }
    }

    /// `spec.sessionAffinityConfig`.
    public struct SessionAffinityConfig: Codable, Hashable, Sendable {
        public var clientIP: ClientIPConfig?
        public struct ClientIPConfig: Codable, Hashable, Sendable {
            public var timeoutSeconds: Int?
        }
    }

    /// `status` of a Service.
    public struct Status: Codable, Hashable, Sendable {
        public var loadBalancer: LoadBalancerStatus?
    }

    /// `status.loadBalancer`.
    public struct LoadBalancerStatus: Codable, Hashable, Sendable {
        public var ingress: [Ingress]?
    }

    /// One entry of `status.loadBalancer.ingress`.
    public struct Ingress: Codable, Hashable, Sendable {
        public var ip: String?
        public var hostname: String?
        public var ipMode: String?
    }
}
