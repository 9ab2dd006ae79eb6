import IPTablesRules
import KubeProxyCore
import KubeProxyModel

/// Everything one sync of the primary family needs, worked out from configuration, API objects
/// and host facts: the state to compile and the compiler options.
public struct ProxierInputs: Sendable {
    public var node: NodeFacts
    public var state: ProxyState
    public var options: IPTablesCompilerOptions
    /// Objects that were skipped, each naming its field.
    public var skipped: [SkippedObject]

    /// - Parameters:
    ///   - hostname: the host name, used when `hostnameOverride` is empty.
    ///   - hostAddresses: this network namespace's interface addresses.
    ///   - memo: conversions of unchanged objects kept across syncs (the daemon's).
    public init(config: KubeProxyConfiguration, manifests: Manifests, hostname: String,
                hostAddresses: [IPAddress], features: KernelFeatures, memo: ConversionMemo? = nil) {
        let node = NodeFacts(config: config, nodes: manifests.nodes, hostname: hostname)
        let family = node.primaryFamily
        let built = ProxyState.build(services: manifests.services, endpointSlices: manifests.endpointSlices,
                                     node: node.node, serviceCIDRs: manifests.serviceCIDRs, family: family, nodeName: node.name, memo: memo)
        self.node = node
        self.state = built.state
        self.skipped = built.skipped
        self.options = IPTablesCompilerOptions(config: config, family: family, nodeIP: node.nodeIPs[family],
                                               hostAddresses: hostAddresses, features: features)
    }

    /// The payload of a fresh proxier's first (full) sync: the `render` contract.
    public func firstSyncPayload() -> String {
        IPTablesCompiler(options: options).compile(state, scope: .full, existingNATChains: []).payload
    }
}
