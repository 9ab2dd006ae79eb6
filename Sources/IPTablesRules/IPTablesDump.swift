import KubeProxyCore
import KubeProxyModel

/// Tables of iptables chains and rules, as `iptables-save` prints them or as an
/// `iptables-restore` payload declares them.
public struct IPTablesDump: Hashable, Sendable {
    /// One table: its chains in declaration order.
    public struct Table: Hashable, Sendable {
        public var name: String
        public var chains: [Chain]
        /// Chains named with `-X` in a payload (they stay in ``chains``, empty).
        public var deletedChains: [String]

        public init(name: String, chains: [Chain] = [], deletedChains: [String] = []) {
            self.name = name
            self.chains = chains
            self.deletedChains = deletedChains
        }

        /// The chain called `name`.
        public func chain(_ name: String) -> Chain? { chains.first { $0.name == name } }

        /// The index of the chain called `name`.
        public func index(of name: String) -> Int? { chains.firstIndex { $0.name == name } }
    }

    /// One chain and its rules in order.
    public struct Chain: Hashable, Sendable {
        public var name: String
        public var rules: [IPTablesRule]
        public init(name: String, rules: [IPTablesRule] = []) {
            self.name = name
            self.rules = rules
        }
    }

    public var tables: [Table]

    public init(tables: [Table] = []) { self.tables = tables }

    /// The table called `name`.
    public func table(_ name: String) -> Table? { tables.first { $0.name == name } }

    /// Parses restore or save text: `*table`, `:CHAIN policy [p:b]`, `-A CHAIN …`, `-X CHAIN`,
    /// `COMMIT`; blank lines and `#` comments are skipped.
    public init(parsing text: String) throws {
        var tables: [Table] = []
        var current: Table?
        var index: [String: Int] = [:]
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            func fail(_ reason: String) -> IPTablesParseError {
                IPTablesParseError(line: number + 1, text: String(line), reason: reason)
            }
            if line.hasPrefix("*") {
                guard current == nil else { throw fail("table started before COMMIT") }
                current = Table(name: String(line.dropFirst()))
                index = [:]
            } else if line == "COMMIT" {
                guard let table = current else { throw fail("COMMIT outside a table") }
                tables.append(table)
                current = nil
            } else if line.hasPrefix(":") {
                guard current != nil else { throw fail("chain outside a table") }
                let name = String(line.dropFirst().split(separator: " ").first ?? "")
                if index[name] == nil {
                    index[name] = current!.chains.count
                    current!.chains.append(Chain(name: name))
                }
            } else if line.hasPrefix("-A ") {
                guard current != nil else { throw fail("rule outside a table") }
                var rule: IPTablesRule
                do { rule = try IPTablesRule(line: String(line)) } catch { throw fail("malformed rule") }
                guard let at = index[rule.chain], !current!.deletedChains.contains(rule.chain) else {
                    throw fail("rule in undeclared chain \(rule.chain)")
                }
                rule.line = String(line)
                current!.chains[at].rules.append(rule)
            } else if line.hasPrefix("-X ") {
                guard current != nil else { throw fail("-X outside a table") }
                let name = String(line.dropFirst(3).trimmingSpaces())
                guard let at = index[name] else { throw fail("-X of undeclared chain \(name)") }
                guard current!.chains[at].rules.isEmpty else { throw fail("-X of chain \(name) that has rules") }
                current!.deletedChains.append(name)
            } else {
                throw fail("unexpected line")
            }
        }
        guard current == nil else {
            throw IPTablesParseError(line: 0, text: "", reason: "input does not end with COMMIT")
        }
        self.tables = tables
    }

    /// The text `iptables-save` would print (chains declared with policy `-` or the built-in policy).
    public func rendered() -> String {
        var out = ""
        for table in tables {
            out += "*\(table.name)\n"
            for chain in table.chains {
                let policy = Self.builtinChains.contains(chain.name) ? "ACCEPT" : "-"
                out += ":\(chain.name) \(policy) [0:0]\n"
            }
            for chain in table.chains {
                for rule in chain.rules { out += rule.line + "\n" }
            }
            for chain in table.deletedChains { out += "-X \(chain)\n" }
            out += "COMMIT\n"
        }
        return out
    }

    /// Chains the kernel provides in some table.
    public static let builtinChains: Set<String> = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]

    /// Targets that are not chains.
    public static let builtinTargets: Set<String> = [
        "ACCEPT", "DROP", "REJECT", "RETURN", "DNAT", "SNAT", "MASQUERADE", "MARK", "LOG", "REDIRECT", "CONNMARK", "NOTRACK", "CT",
    ]
}
