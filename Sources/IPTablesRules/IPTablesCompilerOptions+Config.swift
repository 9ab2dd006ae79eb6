import KubeProxyModel

extension IPTablesCompilerOptions {
    /// The options an iptables proxier of `family` runs with, from its configuration and host facts.
    /// - Parameters:
    ///   - nodeIP: the node's IP of this family (from `bindAddress` or the Node object).
    ///   - hostAddresses: this host's interface addresses (all families; filtered here).
    public init(config: KubeProxyConfiguration, family: IPFamily, nodeIP: IPAddress?, nodePodCIDRs: [String] = [],
                hostAddresses: [IPAddress], features: KernelFeatures) {
        let familyAddresses = hostAddresses.filter { $0.family == family }
        self.init(
            masqueradeBit: config.resolvedMasqueradeBit,
            masqueradeAll: config.resolvedMasqueradeAll,
            localDetector: .from(config, family: family, nodePodCIDRs: nodePodCIDRs),
            localhostNodePorts: config.resolvedLocalhostNodePorts && family == .ipv4,
            nodePortAddresses: NodePortAddresses(config.nodePortAddresses ?? [], family: family, nodeIPs: nodeIP.map { [$0] } ?? []),
            hostAddresses: familyAddresses,
            nodeIP: nodeIP,
            features: features)
        if let text = config.iptables?.dispatch, text.hasPrefix("tree") {
            let leaf = Int(text.dropFirst("tree/".count)) ?? 16
            dispatch = .tree(fanOutBits: 4, leafSize: max(1, leaf))
        }
    }
}
