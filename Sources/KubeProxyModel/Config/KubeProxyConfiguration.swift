/// kubeproxy.config.k8s.io/v1alpha1 `KubeProxyConfiguration`: every field is optional in the
/// file; the `resolved…` accessors apply upstream's defaults.
public struct KubeProxyConfiguration: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var mode: String?
    public var hostnameOverride: String?
    public var bindAddress: String?
    public var healthzBindAddress: String?
    public var metricsBindAddress: String?
    public var clusterCIDR: String?
    public var detectLocalMode: String?
    public var detectLocal: DetectLocal?
    public var nodePortAddresses: [String]?
    public var iptables: IPTables?
    public var nftables: NFTables?
    public var ipvs: IPVS?
    public var conntrack: Conntrack?
    public var configSyncPeriod: GoDuration?
    public var syncPeriod: GoDuration?
    public var minSyncPeriod: GoDuration?
    public var clientConnection: ClientConnection?
    public var featureGates: [String: Bool]?

    public init() {}

    /// `iptables` section.
    public struct IPTables: Codable, Hashable, Sendable {
        public var masqueradeAll: Bool?
        public var masqueradeBit: Int?
        public var localhostNodePorts: Bool?
        public var syncPeriod: GoDuration?
        public var minSyncPeriod: GoDuration?
        /// swift-kube-proxy's own: `flat` (upstream's layout, the default) or `tree` (a dispatch
        /// tree of chains keyed on destination address bits, for sub-linear first-packet cost).
        public var dispatch: String?
        public init() {}
    }

    /// `nftables` section.
    public struct NFTables: Codable, Hashable, Sendable {
        public var masqueradeAll: Bool?
        public var masqueradeBit: Int?
        public var syncPeriod: GoDuration?
        public var minSyncPeriod: GoDuration?
        /// swift-kube-proxy's own: `upstream` (kube-proxy's table, the default) or `endpoint-maps`
        /// (endpoint choice by named maps, for endpoint changes without table re-validation).
        public var layout: String?
        public init() {}
    }

    /// `ipvs` section.
    public struct IPVS: Codable, Hashable, Sendable {
        public var scheduler: String?
        public var syncPeriod: GoDuration?
        public var minSyncPeriod: GoDuration?
        public var excludeCIDRs: [String]?
        public var strictARP: Bool?
        public var tcpTimeout: GoDuration?
        public var tcpFinTimeout: GoDuration?
        public var udpTimeout: GoDuration?
        public init() {}
    }

    /// `conntrack` section.
    public struct Conntrack: Codable, Hashable, Sendable {
        public var maxPerCore: Int?
        public var min: Int?
        public var tcpEstablishedTimeout: GoDuration?
        public var tcpCloseWaitTimeout: GoDuration?
        public var tcpBeLiberal: Bool?
        public var udpTimeout: GoDuration?
        public var udpStreamTimeout: GoDuration?
    }

    /// `detectLocal` section.
    public struct DetectLocal: Codable, Hashable, Sendable {
        public var bridgeInterface: String?
        public var interfaceNamePrefix: String?
        public init() {}
    }

    /// `clientConnection` section.
    public struct ClientConnection: Codable, Hashable, Sendable {
        public var kubeconfig: String?
        public var qps: Double?
        public var burst: Int?
        public var contentType: String?
        public var acceptContentTypes: String?
        public init() {}
    }
}
