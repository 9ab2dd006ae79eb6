import KubeProxyCore
import KubeProxyModel

/// The iptables rules IPVS mode still needs (masquerade, NodePort handling, firewalls), as upstream
/// writes them with `iptables-restore --noflush`: every chain declared (so flushed) and refilled,
/// rules that match an ipset written only when that set has entries.
public enum IPVSIPTablesRules {
    public static let natChains = ["KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER", "KUBE-MARK-MASQ"]
    public static let filterChains = ["KUBE-FORWARD", "KUBE-NODE-PORT", "KUBE-PROXY-FIREWALL", "KUBE-SOURCE-RANGES-FIREWALL",
                                      "KUBE-IPVS-FILTER", "KUBE-IPVS-OUT-FILTER"]

    /// The jumps from the built-in chains (upstream's `iptablesJumpChain` for IPVS), each prepended.
    public static let jumps: [IPTablesJumpRule] = {
        func rule(_ table: String, _ from: String, _ comment: String, _ to: String) -> IPTablesJumpRule {
            IPTablesJumpRule(table: table, from: from, args: ["-m", "comment", "--comment", comment, "-j", to])
        }
        return [
            rule("nat", "OUTPUT", "kubernetes service portals", "KUBE-SERVICES"),
            rule("nat", "PREROUTING", "kubernetes service portals", "KUBE-SERVICES"),
            rule("nat", "POSTROUTING", "kubernetes postrouting rules", "KUBE-POSTROUTING"),
            rule("filter", "FORWARD", "kubernetes forwarding rules", "KUBE-FORWARD"),
            rule("filter", "INPUT", "kubernetes health check rules", "KUBE-NODE-PORT"),
            rule("filter", "INPUT", "kube-proxy firewall rules", "KUBE-PROXY-FIREWALL"),
            rule("filter", "FORWARD", "kube-proxy firewall rules", "KUBE-PROXY-FIREWALL"),
            rule("filter", "INPUT", "kubernetes ipvs access filter", "KUBE-IPVS-FILTER"),
            rule("filter", "OUTPUT", "kubernetes ipvs access filter", "KUBE-IPVS-OUT-FILTER"),
        ]
    }()

    /// A rule that matches one ipset (upstream's `ipsetWithIptablesChain` table).
    struct SetRule {
        var set: IPVSIPSet
        var table: String
        var from: String
        var to: String
        var matchType: String
        var `protocol`: String?
    }

    static let setRules: [SetRule] = [
        SetRule(set: .loopBack, table: "nat", from: "KUBE-POSTROUTING", to: "MASQUERADE", matchType: "dst,dst,src"),
        SetRule(set: .loadBalancer, table: "nat", from: "KUBE-SERVICES", to: "KUBE-LOAD-BALANCER", matchType: "dst,dst"),
        SetRule(set: .loadBalancerLocal, table: "nat", from: "KUBE-LOAD-BALANCER", to: "RETURN", matchType: "dst,dst"),
        SetRule(set: .nodePortLocalTCP, table: "nat", from: "KUBE-NODE-PORT", to: "RETURN", matchType: "dst", protocol: "tcp"),
        SetRule(set: .nodePortTCP, table: "nat", from: "KUBE-NODE-PORT", to: "KUBE-MARK-MASQ", matchType: "dst", protocol: "tcp"),
        SetRule(set: .nodePortLocalUDP, table: "nat", from: "KUBE-NODE-PORT", to: "RETURN", matchType: "dst", protocol: "udp"),
        SetRule(set: .nodePortUDP, table: "nat", from: "KUBE-NODE-PORT", to: "KUBE-MARK-MASQ", matchType: "dst", protocol: "udp"),
        SetRule(set: .nodePortLocalSCTP, table: "nat", from: "KUBE-NODE-PORT", to: "RETURN", matchType: "dst,dst", protocol: "sctp"),
        SetRule(set: .nodePortSCTP, table: "nat", from: "KUBE-NODE-PORT", to: "KUBE-MARK-MASQ", matchType: "dst,dst", protocol: "sctp"),
        SetRule(set: .loadBalancerFW, table: "filter", from: "KUBE-PROXY-FIREWALL", to: "KUBE-SOURCE-RANGES-FIREWALL", matchType: "dst,dst"),
        SetRule(set: .loadBalancerSourceCIDR, table: "filter", from: "KUBE-SOURCE-RANGES-FIREWALL", to: "RETURN", matchType: "dst,dst,src"),
        SetRule(set: .loadBalancerSourceIP, table: "filter", from: "KUBE-SOURCE-RANGES-FIREWALL", to: "RETURN", matchType: "dst,dst,src"),
    ]

    /// `0x004000`: upstream formats IPVS mode's mark with `%#08x`.
    static func mark(_ options: ProxierOptions) -> String {
        let value = Int(options.masqueradeMark.dropFirst(2), radix: 16) ?? 0x4000
        let hex = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 6 - hex.count)) + hex
    }

    /// The `iptables-restore --noflush` payload for one sync; `randomFully` when iptables has
    /// `MASQUERADE --random-fully`.
    public static func payload(_ desired: IPVSPlanner.Desired, options: ProxierOptions, randomFully: Bool = false, family: IPFamily) -> String {
        let mark = mark(options)
        func has(_ set: IPVSIPSet) -> Bool { !(desired.setEntries[set] ?? []).isEmpty }
        func quoted(_ s: String) -> String { "\"\(s)\"" }
        func matchSet(_ set: IPVSIPSet, _ type: String) -> [String] {
            ["-m", "comment", "--comment", quoted(set.comment), "-m", "set", "--match-set", set.name(for: family), type]
        }
        var nat: [String] = [], filter: [String] = []
        func write(_ table: String, _ words: [String]) {
            if table == "nat" { nat.append(words.joined(separator: " ")) } else { filter.append(words.joined(separator: " ")) }
        }
        write("nat", ["-A", "KUBE-SERVICES", "-s", family == .ipv4 ? "127.0.0.0/8" : "::1/128", "-j", "RETURN"])
        for rule in setRules where has(rule.set) {
            write(rule.table, ["-A", rule.from] + (rule.protocol.map { ["-p", $0] } ?? []) + matchSet(rule.set, rule.matchType) + ["-j", rule.to])
        }
        if has(.clusterIP) {
            let masq = ["-j", "KUBE-MARK-MASQ"]
            if options.masqueradeAll {
                write("nat", ["-A", "KUBE-SERVICES"] + matchSet(.clusterIP, "dst,dst") + masq)
            } else if options.localDetector.isImplemented {
                write("nat", ["-A", "KUBE-SERVICES"] + matchSet(.clusterIP, "dst,dst") + options.localDetector.ifNotLocal + masq)
            } else {
                write("nat", ["-A", "KUBE-SERVICES"] + matchSet(.clusterIP, "src,dst") + masq)
            }
        }
        if has(.externalIP) { write("nat", ["-A", "KUBE-SERVICES"] + matchSet(.externalIP, "dst,dst") + ["-j", "KUBE-MARK-MASQ"]) }
        for set in [IPVSIPSet.externalIP, .externalIPLocal] where has(set) {
            // Accept external-IP traffic that is not bridged and not from this host, and traffic to a local address.
            write("nat", ["-A", "KUBE-SERVICES"] + matchSet(set, "dst,dst") + ["-m", "physdev", "!", "--physdev-is-in", "-m", "addrtype", "!", "--src-type", "LOCAL", "-j", "ACCEPT"])
            write("nat", ["-A", "KUBE-SERVICES"] + matchSet(set, "dst,dst") + ["-m", "addrtype", "--dst-type", "LOCAL", "-j", "ACCEPT"])
        }
        if options.nodePortAddresses.matchAll {
            write("nat", ["-A", "KUBE-SERVICES", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "KUBE-NODE-PORT"])
        } else {
            for ip in options.nodePortAddresses.matchingAddresses(options.hostAddresses.filter { $0.family == family }) {
                write("nat", ["-A", "KUBE-SERVICES", "-d", ip.description, "-j", "KUBE-NODE-PORT"])
            }
        }
        write("nat", ["-A", "KUBE-LOAD-BALANCER", "-j", "KUBE-MARK-MASQ"])
        for set in [IPVSIPSet.clusterIP, .loadBalancer] where has(set) {
            write("nat", ["-A", "KUBE-SERVICES", "-m", "set", "--match-set", set.name(for: family), set.kind.matchType, "-j", "ACCEPT"])
        }
        write("nat", ["-A", "KUBE-POSTROUTING", "-m", "mark", "!", "--mark", "\(mark)/\(mark)", "-j", "RETURN"])
        write("nat", ["-A", "KUBE-POSTROUTING", "-j", "MARK", "--xor-mark", mark])
        write("nat", ["-A", "KUBE-POSTROUTING", "-m", "comment", "--comment", quoted("kubernetes service traffic requiring SNAT"), "-j", "MASQUERADE"]
              + (randomFully ? ["--random-fully"] : []))
        write("nat", ["-A", "KUBE-MARK-MASQ", "-j", "MARK", "--or-mark", mark])

        write("filter", ["-A", "KUBE-SOURCE-RANGES-FIREWALL", "-j", "DROP"])
        for key in desired.outFilterDrops.sorted() {
            let proto = key.protocol.lowercased
            write("filter", ["-A", "KUBE-IPVS-OUT-FILTER", "-s", key.address.description, "-m", "ipvs", "--vaddr", key.address.description,
                             "--vproto", proto, "--vport", "\(key.port)", "-j", "DROP"])
        }
        write("filter", ["-A", "KUBE-FORWARD", "-m", "comment", "--comment", quoted("kubernetes forwarding rules"),
                         "-m", "mark", "--mark", "\(mark)/\(mark)", "-j", "ACCEPT"])
        write("filter", ["-A", "KUBE-FORWARD", "-m", "comment", "--comment", quoted("kubernetes forwarding conntrack rule"),
                         "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"])
        write("filter", ["-A", "KUBE-NODE-PORT", "-m", "comment", "--comment", quoted(IPVSIPSet.healthCheckNodePort.comment),
                         "-m", "set", "--match-set", IPVSIPSet.healthCheckNodePort.name(for: family), "dst", "-j", "ACCEPT"])
        for set in [IPVSIPSet.loadBalancer, .clusterIP, .externalIP, .externalIPLocal, .healthCheckNodePort] {
            write("filter", ["-A", "KUBE-IPVS-FILTER", "-m", "set", "--match-set", set.name(for: family), set.kind.matchType, "-j", "RETURN"])
        }
        write("filter", ["-A", "KUBE-IPVS-FILTER", "-m", "conntrack", "--ctstate", "NEW", "-m", "set", "--match-set",
                         IPVSIPSet.ipvsIPs.name(for: family), "dst", "-j", "REJECT"])

        var lines = ["*nat"] + natChains.map { ":\($0) - [0:0]" } + nat + ["COMMIT"]
        lines += ["*filter"] + filterChains.map { ":\($0) - [0:0]" } + filter + ["COMMIT"]
        return lines.joined(separator: "\n") + "\n"
    }
}
