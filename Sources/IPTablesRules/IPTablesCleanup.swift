import KubeProxyCore

/// What `cleanup` removes: every chain kube-proxy's iptables mode creates and every rule that
/// jumps to one, as upstream's `CleanupLeftovers`. kubelet's `KUBE-FIREWALL` is left alone.
public enum IPTablesCleanup {
    /// Chains kube-proxy owns besides the per-service ones.
    public static let ownedChains: Set<String> = [
        "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ",
        "KUBE-FORWARD", "KUBE-PROXY-FIREWALL", "KUBE-PROXY-CANARY",
        // IPVS mode's.
        "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-SOURCE-RANGES-FIREWALL", "KUBE-IPVS-FILTER", "KUBE-IPVS-OUT-FILTER",
    ]

    /// Whether `chain` is kube-proxy's.
    public static func owns(_ chain: String) -> Bool {
        ownedChains.contains(chain) || isIPTablesModeChain(chain)
    }

    /// Whether `chain` is one only iptables mode creates (per-Service chains, the dispatch tree's):
    /// the sign that iptables mode ran in a table.
    public static func isIPTablesModeChain(_ chain: String) -> Bool {
        ChainNames.isServiceChain(chain) || chain.hasPrefix(DispatchTree.prefix)
    }

    /// The restore payload that removes kube-proxy's rules and chains from the tables in `save`
    /// (`iptables-save` output); nil when there is nothing to remove.
    public static func payload(save: String) throws -> String? {
        let dump = try IPTablesDump(parsing: save)
        var out = ""
        for table in dump.tables {
            let doomed = table.chains.map(\.name).filter(owns)
            var lines: [String] = []
            for chain in table.chains where !owns(chain.name) {
                for rule in chain.rules where rule.target.map(owns) ?? false {
                    lines.append("-D" + rule.line.dropFirst(2))
                }
            }
            lines += doomed.map { ":\($0) - [0:0]" }
            lines += doomed.map { "-X \($0)" }
            if lines.isEmpty { continue }
            out += "*\(table.name)\n" + lines.joined(separator: "\n") + "\nCOMMIT\n"
        }
        return out.isEmpty ? nil : out
    }
}
