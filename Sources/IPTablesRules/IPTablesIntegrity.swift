/// The cheap check that what the last sync wrote is still in the kernel, from one `iptables-save`
/// of nat and filter: every jump rule from a built-in chain, the rule totals of our nat and filter
/// chains, and each Service port's own chains (SVC/SVL/EXT/FW/SEP) with their rule count. It
/// catches a flushed table (even with the canary kept), a removed jump, a flushed or deleted
/// Service or endpoint chain; not a rule rewritten in place (`swift-kube-proxy verify` compares every rule).
public enum IPTablesIntegrity {
    /// What differs from `plan` in `nat` and `filter` (`iptables-save` text of each), as log lines;
    /// empty when everything is in place.
    public static func problems(nat: String, filter: String, plan: IPTablesSyncPlan, jumps: [IPTablesJumpRule]) throws -> [String] {
        let tables = ["nat": try IPTablesDump(parsing: nat).table("nat"), "filter": try IPTablesDump(parsing: filter).table("filter")]
        var problems: [String] = []
        for jump in jumps {
            let rules = tables[jump.table]??.chain(jump.from)?.rules ?? []
            if !rules.contains(where: { $0.target == jump.to }) { problems.append("\(jump.table) \(jump.from): the jump to \(jump.to) is missing") }
        }
        func ruleCounts(_ table: IPTablesDump.Table?) -> [String: Int] {
            var counts: [String: Int] = [:]
            // KUBE-FIREWALL is kubelet's, but the payload writes it (IPv4 with localhost NodePorts).
            for chain in table?.chains ?? [] where IPTablesCleanup.owns(chain.name) || chain.name == "KUBE-FIREWALL" {
                counts[chain.name] = chain.rules.count
            }
            return counts
        }
        let natCounts = ruleCounts(tables["nat"] ?? nil), filterCounts = ruleCounts(tables["filter"] ?? nil)
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
}
