import KubeProxyCore

extension IPTablesJumpRule {
    /// Upstream's `iptablesJumpChains`, in the order they are ensured (each is prepended).
    public static let all: [IPTablesJumpRule] = {
        let newOnly = ["-m", "conntrack", "--ctstate", "NEW"]
        func rule(_ table: String, _ from: String, _ extra: [String], _ comment: String, _ to: String) -> IPTablesJumpRule {
            IPTablesJumpRule(table: table, from: from, args: extra + ["-m", "comment", "--comment", comment, "-j", to])
        }
        return [
            rule("filter", "INPUT", newOnly, "kubernetes externally-visible service portals", "KUBE-EXTERNAL-SERVICES"),
            rule("filter", "FORWARD", newOnly, "kubernetes externally-visible service portals", "KUBE-EXTERNAL-SERVICES"),
            rule("filter", "INPUT", [], "kubernetes health check service ports", "KUBE-NODEPORTS"),
            rule("filter", "FORWARD", newOnly, "kubernetes service portals", "KUBE-SERVICES"),
            rule("filter", "OUTPUT", newOnly, "kubernetes service portals", "KUBE-SERVICES"),
            rule("filter", "FORWARD", [], "kubernetes forwarding rules", "KUBE-FORWARD"),
            rule("filter", "INPUT", newOnly, "kubernetes load balancer firewall", "KUBE-PROXY-FIREWALL"),
            rule("filter", "OUTPUT", newOnly, "kubernetes load balancer firewall", "KUBE-PROXY-FIREWALL"),
            rule("filter", "FORWARD", newOnly, "kubernetes load balancer firewall", "KUBE-PROXY-FIREWALL"),
            rule("nat", "OUTPUT", [], "kubernetes service portals", "KUBE-SERVICES"),
            rule("nat", "PREROUTING", [], "kubernetes service portals", "KUBE-SERVICES"),
            rule("nat", "POSTROUTING", [], "kubernetes postrouting rules", "KUBE-POSTROUTING"),
        ]
    }()

    /// kubelet's duplicate `KUBE-FIREWALL` jumps, which kube-proxy also ensures (IPv4 with localhost NodePorts).
    public static let kubeletFirewall: [IPTablesJumpRule] = [
        IPTablesJumpRule(table: "filter", from: "INPUT", args: ["-j", "KUBE-FIREWALL"]),
        IPTablesJumpRule(table: "filter", from: "OUTPUT", args: ["-j", "KUBE-FIREWALL"]),
    ]

    /// The restore-text form, `-A FROM args…`, with multi-word values quoted.
    public var restoreLine: String {
        (["-A", from] + args.map { $0.contains(" ") ? "\"\($0)\"" : $0 }).joined(separator: " ")
    }
}
