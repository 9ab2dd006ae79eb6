import KubeProxyCore
import KubeProxyModel

extension IPTablesDump {
    /// Applies an `iptables-restore --noflush` payload the way the kernel does: a declared chain
    /// is created or flushed, `-A` appends, `-X` deletes; each table commits atomically, and a table
    /// with an error (a jump to a missing chain, deleting a chain still referenced) changes nothing.
    /// - Throws: ``IPTablesRestoreFailure`` naming the first failing line; tables before it stay applied.
    public mutating func applyRestore(_ payload: String) throws {
        var table: Table?
        var index: [String: Int] = [:]
        var lineNumber = 0
        for raw in payload.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            func fail(_ reason: String) -> IPTablesRestoreFailure {
                IPTablesRestoreFailure(line: lineNumber, text: String(line), reason: reason)
            }
            if line.hasPrefix("*") {
                let name = String(line.dropFirst())
                table = self.table(name) ?? Table(name: name)
                index = Dictionary(uniqueKeysWithValues: table!.chains.enumerated().map { ($0.element.name, $0.offset) })
            } else if line == "COMMIT" {
                guard var committed = table else { throw fail("COMMIT outside a table") }
                // Every jump must lead somewhere.
                let names = Set(committed.chains.map(\.name))
                for chain in committed.chains {
                    for rule in chain.rules {
                        if let target = rule.target, !Self.builtinTargets.contains(target), !names.contains(target) {
                            throw fail("Couldn't load target `\(target)': No such file or directory (rule in \(chain.name))")
                        }
                    }
                }
                committed.deletedChains = []
                if let index = tables.firstIndex(where: { $0.name == committed.name }) {
                    tables[index] = committed
                } else {
                    tables.append(committed)
                }
                table = nil
            } else if line.hasPrefix(":") {
                guard table != nil else { throw fail("chain outside a table") }
                let name = String(line.dropFirst().split(separator: " ").first ?? "")
                if let at = index[name] {
                    table!.chains[at].rules = []
                } else {
                    index[name] = table!.chains.count
                    table!.chains.append(Chain(name: name))
                }
            } else if line.hasPrefix("-A ") {
                guard table != nil else { throw fail("rule outside a table") }
                guard let rule = try? IPTablesRule(line: String(line)) else { throw fail("malformed rule") }
                guard let at = index[rule.chain] else { throw fail("chain \(rule.chain) does not exist") }
                table!.chains[at].rules.append(rule)
            } else if line.hasPrefix("-X ") {
                guard table != nil else { throw fail("-X outside a table") }
                let name = String(line.dropFirst(3).trimmingSpaces())
                guard let at = index[name] else { throw fail("chain \(name) does not exist") }
                let referenced = table!.chains.contains { $0.rules.contains { $0.target == name } }
                if referenced { throw fail("Couldn't delete chain `\(name)': Directory not empty (still referenced)") }
                table!.chains.remove(at: at)
                index = Dictionary(uniqueKeysWithValues: table!.chains.enumerated().map { ($0.element.name, $0.offset) })
            } else {
                throw fail("unexpected line")
            }
        }
        if table != nil { throw IPTablesRestoreFailure(line: lineNumber, text: "", reason: "input does not end with COMMIT") }
    }

    /// The names of the chains of `table`.
    public func chainNames(in table: String) -> Set<String> {
        Set(self.table(table)?.chains.map(\.name) ?? [])
    }
}

/// Why a restore payload was refused, with the failing line.
public struct IPTablesRestoreFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var text: String
    public var reason: String
    public var description: String { "line \(line) failed: \(reason): \(text)" }
}
