import KubeProxyCore

/// The cheap check that what the last sync wrote is still in the kernel, from one `iptables-save`
/// of nat and filter: every jump rule from a built-in chain, the rule totals of our nat and filter
/// chains, and each Service port's own chains (SVC/SVL/EXT/FW/SEP) with their rule count. It
/// catches a flushed table (even with the canary kept), a removed jump, a flushed or deleted
/// Service or endpoint chain; not a rule rewritten in place (`swift-kube-proxy verify` compares every rule).
public enum IPTablesIntegrity {
    /// What differs from `plan` in `nat` and `filter` (`iptables-save` text of each), as log lines;
    /// empty when everything is in place.
    public static func problems(nat: String, filter: String, plan: IPTablesSyncPlan, jumps: [IPTablesJumpRule]) -> [String] {
        let tables = ["nat": scan(nat), "filter": scan(filter)]
        var problems: [String] = []
        for jump in jumps where !(tables[jump.table]?.jumps[jump.from]?.contains(jump.to) ?? false) {
            problems.append("\(jump.table) \(jump.from): the jump to \(jump.to) is missing")
        }
        // KUBE-FIREWALL is kubelet's; the payload writes it only with its jumps (IPv4, localhost
        // NodePorts). Stale per-Service chains a large-cluster sync has not scanned for yet are not
        // the plan's either.
        let firewallWritten = jumps.contains { $0.to == "KUBE-FIREWALL" }
        func ours(_ counts: [String: Int]) -> [String: Int] {
            counts.filter { name, _ in
                if name == "KUBE-FIREWALL" { return firewallWritten }
                if IPTablesCleanup.isIPTablesModeChain(name) { return plan.activeNATChains.contains(name) || plan.dispatchChains[name] != nil }
                return IPTablesCleanup.owns(name)
            }
        }
        let natCounts = ours(tables["nat"]!.rules), filterCounts = ours(tables["filter"]!.rules)
        let natTotal = natCounts.values.reduce(0, +), filterTotal = filterCounts.values.reduce(0, +)
        if natTotal != plan.natRuleTotal { problems.append("nat: \(natTotal) rules in kube-proxy's chains, \(plan.natRuleTotal) written") }
        if filterTotal != plan.filterRuleCount { problems.append("filter: \(filterTotal) rules in kube-proxy's chains, \(plan.filterRuleCount) written") }
        for (name, summary) in plan.serviceSummaries {
            let own = ["KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-"].map { $0 + summary.hash } + summary.endpointChains
            let missing = summary.endpointChains.filter { natCounts[$0] == nil }
            let rules = own.reduce(0) { $0 + (natCounts[$1] ?? 0) }
            if !missing.isEmpty || rules != summary.rules {
                problems.append("\(name): \(rules) of \(summary.rules) rules in its chains\(missing.isEmpty ? "" : ", \(missing.joined(separator: " ")) gone")")
            }
        }
        return problems
    }

    /// One pass over `iptables-save` text without parsing rules (a 10k-Service nat table is 200k
    /// lines): rules per declared chain, and the `-j` targets of the built-in chains' rules.
    static func scan(_ save: String) -> (rules: [String: Int], jumps: [String: Set<String>]) {
        var rules: [String: Int] = [:], jumps: [String: Set<String>] = [:]
        let builtIn: Set<Substring> = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]
        for line in save.utf8.split(separator: UInt8(ascii: "\n")) {
            guard let first = line.first else { continue }
            if first == UInt8(ascii: ":") {
                let name = line.dropFirst().prefix { $0 != UInt8(ascii: " ") }
                rules[String(Substring(name)), default: 0] += 0
            } else if first == UInt8(ascii: "-"), line.starts(with: "-A ".utf8) {
                let chain = Substring(line.dropFirst(3).prefix { $0 != UInt8(ascii: " ") })
                rules[String(chain), default: 0] += 1
                if builtIn.contains(chain), let target = Substring(line).range(of: " -j ") {
                    let rest = Substring(line)[target.upperBound...]
                    jumps[String(chain), default: []].insert(String(rest.prefix { $0 != " " }))
                }
            }
        }
        return (rules, jumps)
    }
}
