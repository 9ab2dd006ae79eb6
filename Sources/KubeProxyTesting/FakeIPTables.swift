import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Synchronization

/// An in-memory kernel for one family, with iptables-restore semantics (``IPTablesDump/applyRestore(_:)``);
/// it records every payload it was given.
public final class FakeIPTables: IPTablesInterface {
    public let family: IPFamily
    private let state: Mutex<(dump: IPTablesDump, payloads: [String])>

    public init(family: IPFamily = .ipv4) {
        self.family = family
        let builtin: [(String, [String])] = [
            ("filter", ["INPUT", "FORWARD", "OUTPUT"]),
            ("nat", ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]),
            ("mangle", ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]),
        ]
        let dump = IPTablesDump(tables: builtin.map { IPTablesDump.Table(name: $0.0, chains: $0.1.map { IPTablesDump.Chain(name: $0) }) })
        state = Mutex((dump, []))
    }

    /// The tables as they are now.
    public var dump: IPTablesDump { state.withLock { $0.dump } }

    /// Every payload passed to ``restore(_:)``, failed ones included.
    public var payloads: [String] { state.withLock { $0.payloads } }

    /// Appends a rule behind the proxier's back (for tests of out-of-band changes).
    public func appendRule(table: String, line: String) throws {
        let rule = try IPTablesRule(line: line)
        try state.withLock { s in
            guard let t = s.dump.tables.firstIndex(where: { $0.name == table }),
                  let c = s.dump.tables[t].index(of: rule.chain) else { throw IPTablesRestoreError(code: .commandFailed, line: nil, message: "no chain \(rule.chain)") }
            s.dump.tables[t].chains[c].rules.append(rule)
        }
    }

    /// Deletes a chain behind the proxier's back, as `iptables -F; iptables -X` would.
    public func deleteChain(table: String, chain: String) {
        state.withLock { s in
            guard let t = s.dump.tables.firstIndex(where: { $0.name == table }) else { return }
            s.dump.tables[t].chains.removeAll { $0.name == chain }
        }
    }

    public func restore(_ payload: String) async throws {
        try state.withLock { s in
            s.payloads.append(payload)
            do {
                try s.dump.applyRestore(payload)
            } catch let failure as IPTablesRestoreFailure {
                throw IPTablesRestoreError(code: .restoreFailed, line: failure.line, message: failure.reason)
            }
        }
    }

    public func save(table: String) async throws -> String {
        state.withLock { s in
            IPTablesDump(tables: s.dump.tables.filter { $0.name == table }).rendered()
        }
    }

    public func ensureChain(table: String, chain: String) async throws {
        state.withLock { s in
            guard let t = s.dump.tables.firstIndex(where: { $0.name == table }) else { return }
            if s.dump.tables[t].index(of: chain) == nil { s.dump.tables[t].chains.append(IPTablesDump.Chain(name: chain)) }
        }
    }

    public func ensureRule(table: String, chain: String, args: [String]) async throws {
        let line = (["-A", chain] + args.map { $0.contains(" ") ? "\"\($0)\"" : $0 }).joined(separator: " ")
        let rule = try IPTablesRule(line: line)
        state.withLock { s in
            guard let t = s.dump.tables.firstIndex(where: { $0.name == table }),
                  let c = s.dump.tables[t].index(of: chain) else { return }
            if !s.dump.tables[t].chains[c].rules.contains(where: { $0.words == rule.words }) {
                s.dump.tables[t].chains[c].rules.insert(rule, at: 0)
            }
        }
    }

    public func deleteRule(table: String, chain: String, args: [String]) async throws {
        let words = try IPTablesRule(line: (["-A", chain] + args.map { $0.contains(" ") ? "\"\($0)\"" : $0 }).joined(separator: " ")).words
        state.withLock { s in
            guard let t = s.dump.tables.firstIndex(where: { $0.name == table }),
                  let c = s.dump.tables[t].index(of: chain) else { return }
            s.dump.tables[t].chains[c].rules.removeAll { $0.words == words }
        }
    }

    public func chainExists(table: String, chain: String) async -> Bool {
        state.withLock { $0.dump.table(table)?.index(of: chain) != nil }
    }
}
