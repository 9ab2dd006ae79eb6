import IPTablesRules
import KubeProxyCore
import KubeProxyModel

/// Everything one sync of one IP family needs (the primary family unless told otherwise),
/// worked out from configuration, API objects and host facts: the state to compile and the
/// compiler options. A dual-stack node has one per family (``all(config:manifests:hostname:hostAddresses:features:)``).
public struct ProxierInputs: Sendable {
    public var node: NodeFacts
    public var state: ProxyState
    public var options: IPTablesCompilerOptions
    /// Objects that were skipped, each naming its field.
    public var skipped: [SkippedObject]

    /// - Parameters:
    ///   - hostname: the host name, used when `hostnameOverride` is empty.
    ///   - hostAddresses: this network namespace's interface addresses.
    ///   - family: the family to proxy; nil for the node's primary family.
    public init(config: KubeProxyConfiguration, manifests: Manifests, hostname: String,
                hostAddresses: [IPAddress], features: KernelFeatures, family: IPFamily? = nil) {
        let node = NodeFacts(config: config, nodes: manifests.nodes, hostname: hostname)
        let family = family ?? node.primaryFamily
        let built = ProxyState.build(services: manifests.services, endpointSlices: manifests.endpointSlices,
                                     node: node.node, serviceCIDRs: manifests.serviceCIDRs, family: family, nodeName: node.name)
        self.node = node
        self.state = built.state
        self.skipped = built.skipped
        self.options = IPTablesCompilerOptions(config: config, family: family, nodeIP: node.nodeIPs[family],
                                               hostAddresses: hostAddresses, features: features)
    }

    /// The inputs of each family the node proxies (``NodeFacts/families``), the primary first.
    public static func all(config: KubeProxyConfiguration, manifests: Manifests, hostname: String, hostAddresses: [IPAddress],
                           features: KernelFeatures) -> [ProxierInputs] {
        NodeFacts(config: config, nodes: manifests.nodes, hostname: hostname).families.map { family in
            ProxierInputs(config: config, manifests: manifests, hostname: hostname, hostAddresses: hostAddresses,
                          features: features, family: family)
        }
    }

    /// The payload of a fresh proxier's first (full) sync: the `render` contract.
    public func firstSyncPayload() -> String {
        IPTablesCompiler(options: options).compile(state, scope: .full, existingNATChains: []).payload
    }
}
