import KubeProxyCore
import KubeProxyModel

/// The settings of an iptables-mode proxier: the ones every mode shares (``ProxierOptions``,
/// readable here as if they were its own) and what only iptables has.
@dynamicMemberLookup
public struct IPTablesCompilerOptions: Hashable, Sendable {
    /// Masquerading, local-traffic detection, NodePort addresses, host and node addresses.
    public var common: ProxierOptions
    /// Optional kernel and iptables features.
    public var features: KernelFeatures
    /// Above this many endpoints, comments are dropped from endpoint rules (upstream: 1000).
    public var largeClusterEndpointsThreshold: Int
    /// How KUBE-SERVICES reaches a Service's rule (upstream's flat scan by default).
    public var dispatch: IPTablesDispatch = .flat

    public init(common: ProxierOptions, features: KernelFeatures = KernelFeatures(), largeClusterEndpointsThreshold: Int = 1000) {
        self.common = common
        self.features = features
        self.largeClusterEndpointsThreshold = largeClusterEndpointsThreshold
    }

    public init(masqueradeBit: Int = 14, masqueradeAll: Bool = false, localDetector: LocalTrafficDetector = .none,
                localhostNodePorts: Bool = true, nodePortAddresses: NodePortAddresses, hostAddresses: [IPAddress] = [],
                nodeIP: IPAddress? = nil, features: KernelFeatures = KernelFeatures(),
                largeClusterEndpointsThreshold: Int = 1000) {
        self.init(common: ProxierOptions(masqueradeBit: masqueradeBit, masqueradeAll: masqueradeAll, localDetector: localDetector,
                                         localhostNodePorts: localhostNodePorts, nodePortAddresses: nodePortAddresses,
                                         hostAddresses: hostAddresses, nodeIP: nodeIP),
                  features: features, largeClusterEndpointsThreshold: largeClusterEndpointsThreshold)
    }

    public subscript<T>(dynamicMember keyPath: WritableKeyPath<ProxierOptions, T>) -> T {
        get { common[keyPath: keyPath] }
        set { common[keyPath: keyPath] = newValue }
    }
}
