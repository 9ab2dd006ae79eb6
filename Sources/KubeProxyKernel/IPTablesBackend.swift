import KubeProxyModel

/// Which iptables implementation programs the kernel: the legacy x_tables one or the nf_tables one.
public enum IPTablesBackend: String, Hashable, Sendable, CaseIterable {
    case legacy
    case nft

    /// The binary name of `tool` (`iptables`, `iptables-restore`, `iptables-save`) for `family`.
    public func binary(_ tool: String, family: IPFamily) -> String {
        let base = family == .ipv6 ? tool.replacingOccurrences(of: "iptables", with: "ip6tables") : tool
        let parts = base.split(separator: "-", maxSplits: 1)
        let head = String(parts[0])
        let tail = parts.count > 1 ? "-" + parts[1] : ""
        return "\(head)-\(rawValue)\(tail)"
    }

    /// Picks the backend the host already uses, like the iptables-wrapper of kube-proxy's image:
    /// the one whose ruleset holds kubelet's or kube-proxy's chains, preferring the one with more
    /// rules, and nf_tables when neither has any.
    public static func detect(runner: any CommandRunner) async -> IPTablesBackend {
        func score(_ backend: IPTablesBackend) async -> Int {
            var total = 0
            for table in ["mangle", "nat", "filter"] {
                guard let r = try? await runner.run(backend.binary("iptables-save", family: .ipv4), ["-t", table]), r.succeeded else { continue }
                total += r.stdout.split(separator: "\n").filter { $0.contains("KUBE-") }.count
            }
            return total
        }
        let legacy = await score(.legacy)
        let nft = await score(.nft)
        return legacy > nft ? .legacy : .nft
    }
}
