import KubeProxyCore
import KubeProxyModel

extension IPTablesCompilerOptions {
    /// The options an iptables proxier of `family` runs with, from its configuration and host facts.
    /// - Parameters:
    ///   - nodeIP: the node's IP of this family (from `bindAddress` or the Node object).
    ///   - hostAddresses: this host's interface addresses (all families; filtered here).
    public init(config: KubeProxyConfiguration, family: IPFamily, nodeIP: IPAddress?, nodePodCIDRs: [String] = [],
                hostAddresses: [IPAddress], features: KernelFeatures) {
        self.init(common: ProxierOptions(config: config, family: family, nodeIP: nodeIP, nodePodCIDRs: nodePodCIDRs, hostAddresses: hostAddresses),
                  features: features)
        if let text = config.iptables?.dispatch, text.hasPrefix("tree") {
            let leaf = Int(text.dropFirst("tree/".count)) ?? 16
            dispatch = .tree(fanOutBits: 4, leafSize: max(1, leaf))
        }
    }
}
