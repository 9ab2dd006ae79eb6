/// A discovery.k8s.io/v1 `EndpointSlice`, with the fields kube-proxy reads.
public struct EndpointSlice: Codable, Hashable, Sendable {
    public var metadata: ObjectMeta
    public var addressType: String?
    public var ports: [Port]?
    public var endpoints: [Endpoint]?

    public init(metadata: ObjectMeta, addressType: String?, ports: [Port]?, endpoints: [Endpoint]?) {
        self.metadata = metadata
        self.addressType = addressType
        self.ports = ports
        self.endpoints = endpoints
    }

    /// The label that names the slice's Service.
    public static let serviceNameLabel = "kubernetes.io/service-name"

    /// The Service this slice belongs to, from its `kubernetes.io/service-name` label.
    public var serviceName: String? { metadata.labels?[Self.serviceNameLabel] }

    /// One entry of `ports`.
    public struct Port: Codable, Hashable, Sendable {
        public var name: String?
        public var `protocol`: String?
        public var port: Int?

        public init(name: String?, protocol: String?, port: Int?) {
            self.name = name
            self.protocol = `protocol`
            self.port = port
        }

        enum CodingKeys: String, CodingKey { case name, `protocol`, port }
    }

    /// One entry of `endpoints`.
    public struct Endpoint: Codable, Hashable, Sendable {
        public var addresses: [String]?
        public var conditions: Conditions?
        public var nodeName: String?
        public var zone: String?
        public var hints: Hints?

        public init(addresses: [String], conditions: Conditions? = nil, nodeName: String? = nil) {
            self.addresses = addresses
            self.conditions = conditions
            self.nodeName = nodeName
        }
    }

    /// `endpoints[].conditions`; a missing condition is nil, not false.
    public struct Conditions: Codable, Hashable, Sendable {
        public var ready: Bool?
        public var serving: Bool?
        public var terminating: Bool?

        public init(ready: Bool? = nil, serving: Bool? = nil, terminating: Bool? = nil) {
            self.ready = ready
            self.serving = serving
            self.terminating = terminating
        }
    }

    /// `endpoints[].hints`.
    public struct Hints: Codable, Hashable, Sendable {
        public var forZones: [Named]?
        public var forNodes: [Named]?
    }

    /// `{name: ...}` entries of hints.
    public struct Named: Codable, Hashable, Sendable {
        public var name: String
    }
}
