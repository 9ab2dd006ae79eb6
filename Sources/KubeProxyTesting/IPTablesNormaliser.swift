import IPTablesRules
import KubeProxyCore
import KubeProxyModel

/// Upstream kube-proxy's test comparison of iptables-restore payloads (`sortIPTablesRules` and
/// `checkIPTablesRuleJumps` in `proxier_test.go`), so that our payloads can be compared with
/// upstream's expected outputs.
public enum IPTablesNormaliser {
    /// Parses `text` and re-emits it in upstream's sorted order.
    public static func sorted(_ text: String) throws -> String {
        var dump = try IPTablesDump(parsing: String(text.drop { $0 == " " || $0 == "\t" || $0 == "\n" }))
        dump.tables.sort { $0.name < $1.name }
        var out: [String] = []
        for var table in dump.tables {
            table.chains.sort { chainOrder($0.name, $1.name) }
            out.append("*\(table.name)")
            for chain in table.chains { out.append(":\(chain.name) - [0:0]") }
            for chain in table.chains {
                var rules = chain.rules
                let byService = (table.name == "filter" && ["KUBE-NODEPORTS", "KUBE-SERVICES"].contains(chain.name))
                    || (table.name == "nat" && chain.name == "KUBE-NODEPORTS")
                if byService {
                    rules = stableSort(rules) { a, b in serviceLess(a, b) }
                } else if table.name == "nat" && chain.name == "KUBE-SERVICES" {
                    rules = stableSort(rules) { a, b in
                        let aLast = a.comment?.contains("must be the last rule") ?? false
                        let bLast = b.comment?.contains("must be the last rule") ?? false
                        if aLast != bLast { return bLast }
                        if aLast { return false }
                        return serviceLess(a, b)
                    }
                }
                out += rules.map(\.line)
            }
            for name in table.deletedChains.sorted(by: chainOrder) { out.append("-X \(name)") }
            out.append("COMMIT")
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The rules of one chain, in emission order, each followed by a newline (`assertIPTablesChainEqual`).
    public static func chainRules(_ text: String, table: String, chain: String) throws -> String {
        let dump = try IPTablesDump(parsing: String(text.drop { $0 == " " || $0 == "\t" || $0 == "\n" }))
        return (dump.table(table)?.chain(chain)?.rules ?? []).map { $0.line + "\n" }.joined()
    }

    /// Upstream's `checkIPTablesRuleJumps`: every jump lands on a declared, filled chain and
    /// every declared chain is used. Returns the problems found.
    public static func consistencyProblems(_ text: String) -> [String] {
        var problems: [String] = []
        let builtin: Set<String> = ["ACCEPT", "REJECT", "DROP", "MARK", "RETURN", "DNAT", "SNAT", "MASQUERADE"]
        let topLevel: Set<String> = ["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING",
                                     "KUBE-FORWARD", "KUBE-MARK-MASQ", "KUBE-PROXY-FIREWALL", "KUBE-FIREWALL"]
        for section in text.components(separatedBy: "COMMIT\n") where !section.trimmingSpaces().isEmpty {
            var created = Set<String>(), filled = Set<String>(), jumped = Set<String>(), deleted = Set<String>()
            for line in section.split(separator: "\n") {
                if line.hasPrefix(":") { created.insert(String(line.dropFirst().split(separator: " ")[0])) }
                if line.hasPrefix("-X ") { deleted.insert(String(line.dropFirst(3))) }
                if line.hasPrefix("-A "), let rule = try? IPTablesRule(line: String(line)) {
                    filled.insert(rule.chain)
                    if let t = rule.target, !builtin.contains(t) { jumped.insert(t) }
                }
            }
            created.subtract(deleted)
            let missing = jumped.union(filled).subtracting(created)
            if !missing.isEmpty { problems.append("chains used but not created: \(missing.sorted())") }
            let empty = jumped.subtracting(filled).subtracting(["KUBE-NODEPORTS"])
            if !empty.isEmpty { problems.append("jumps to empty chains: \(empty.sorted())") }
            let unused = created.subtracting(jumped).subtracting(topLevel)
            if !unused.isEmpty { problems.append("chains created but never jumped to: \(unused.sorted())") }
        }
        return problems
    }

    static func chainOrder(_ a: String, _ b: String) -> Bool {
        func rank(_ n: String) -> Int {
            if n == "KUBE-NODEPORTS" { return 0 }
            if n == "KUBE-SERVICES" { return 1 }
            if n.hasPrefix("KUBE-") { return 2 }
            return 3
        }
        let (ra, rb) = (rank(a), rank(b))
        return ra != rb ? ra < rb : a < b
    }

    static func serviceKey(_ rule: IPTablesRule) -> String? {
        guard let comment = rule.comment else { return nil }
        return String(comment.prefix { $0 != " " && $0 != ":" })
    }

    static func serviceLess(_ a: IPTablesRule, _ b: IPTablesRule) -> Bool {
        guard let ka = serviceKey(a), let kb = serviceKey(b) else { return false }
        return ka < kb
    }

    static func stableSort(_ rules: [IPTablesRule], by less: (IPTablesRule, IPTablesRule) -> Bool) -> [IPTablesRule] {
        rules.enumerated().sorted { x, y in
            if less(x.element, y.element) { return true }
            if less(y.element, x.element) { return false }
            return x.offset < y.offset
        }.map(\.element)
    }
}
