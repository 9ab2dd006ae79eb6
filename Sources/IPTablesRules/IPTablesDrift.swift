import KubeProxyCore

/// Where two `iptables-save` texts differ in what kube-proxy owns: its chains (and kubelet's
/// `KUBE-FIREWALL`, which it writes too) rule by rule, and its jumps from the built-in chains in
/// order. Everything else in the tables is someone else's and is ignored.
public enum IPTablesDrift {
    /// `table chain` -> its kube-proxy rules, in order.
    public static func ownedRules(_ save: String) throws -> [String: [String]] {
        var rules: [String: [String]] = [:]
        for table in try IPTablesDump(parsing: save).tables {
            for chain in table.chains {
                if IPTablesCleanup.owns(chain.name) || chain.name == "KUBE-FIREWALL" {
                    rules["\(table.name) \(chain.name)"] = chain.rules.map(\.line)
                } else {
                    let jumps = chain.rules.filter { $0.target.map(IPTablesCleanup.owns) ?? false }.map(\.line)
                    if !jumps.isEmpty { rules["\(table.name) \(chain.name)"] = jumps }
                }
            }
        }
        return rules
    }

    /// The differences of `live` from `expected`, one line each, sorted by table and chain.
    public static func differences(live: String, expected: String) throws -> [String] {
        let (have, want) = (try ownedRules(live), try ownedRules(expected))
        var out: [String] = []
        for key in Set(have.keys).union(want.keys).sorted() {
            switch (have[key], want[key]) {
            case (nil, let rules?): out.append("\(key): missing (\(rules.count) rules expected)")
            case (let rules?, nil): out.append("\(key): not expected (\(rules.count) rules)")
            case (let live?, let wanted?) where live != wanted:
                let index = (0..<min(live.count, wanted.count)).first { live[$0] != wanted[$0] } ?? min(live.count, wanted.count)
                out.append("\(key): \(live.count) rules, \(wanted.count) expected; first difference at rule \(index + 1): "
                           + "live \(index < live.count ? live[index] : "(none)") | expected \(index < wanted.count ? wanted[index] : "(none)")")
            default: break
            }
        }
        return out
    }
}
