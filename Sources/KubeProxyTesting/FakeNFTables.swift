import KubeProxyKernel
import NFTablesRules
import Synchronization

/// An `nft` for tests: applies each transaction to an ``NFTablesState`` (all or nothing, as the
/// kernel), records it, and can refuse transactions that `refuse` matches (to simulate, e.g., an
/// older kernel that will not delete a chain yet).
public final class FakeNFTables: NFTablesInterface {
    private struct State {
        var table: NFTablesState
        var transactions: [NFTTransaction] = []
        var refuse: (@Sendable (NFTTransaction) -> Bool)?
    }
    private let state: Mutex<State>

    public init(family: String = "ip", table: String = "kube-proxy") {
        state = Mutex(State(table: NFTablesState(family: family, table: table)))
    }

    /// The table now.
    public var table: NFTablesState { state.withLock { $0.table } }
    /// Every transaction run, accepted or refused.
    public var transactions: [NFTTransaction] { state.withLock { $0.transactions } }
    /// Makes `run` fail for transactions `predicate` matches (nil: accept all).
    public func refuse(when predicate: (@Sendable (NFTTransaction) -> Bool)?) { state.withLock { $0.refuse = predicate } }
    /// Deletes the table, as `nft delete table` from outside would.
    public func deleteTable() { state.withLock { $0.table = NFTablesState(family: $0.table.family, table: $0.table.table) } }

    public func run(_ transaction: NFTTransaction) async throws {
        try state.withLock { s in
            s.transactions.append(transaction)
            if let refuse = s.refuse, refuse(transaction) {
                throw NFTablesError(code: .commandFailed, operation: 0, message: "refused by the fake")
            }
            try s.table.apply(transaction)
        }
    }

    public func check(_ transaction: NFTTransaction) async throws {
        var copy = table
        try copy.apply(transaction)
    }

    public func listChains(family: String, table: String) async throws -> [String] { self.table.chainNames }
    public func listSets(family: String, table: String) async throws -> [String] { self.table.containerNames }
    public func tableExists(family: String, table: String) async -> Bool { self.table.exists }
    public func summary(family: String, table: String, chains: Set<String>, containers: Set<String>) async throws -> NFTTableSummary {
        let now = self.table
        return NFTTableSummary(rules: now.chains.filter { chains.contains($0.key) }.mapValues(\.rules.count),
                               elements: now.containers.filter { containers.contains($0.key) }.mapValues(\.elements.count))
    }
    /// Removes every rule of every chain, as `nft flush table` from outside would.
    public func flushChains() {
        state.withLock { s in for name in s.table.chainNames { try? s.table.apply(Self.flush(name, in: s.table)) } }
    }

    static func flush(_ chain: String, in table: NFTablesState) -> NFTTransaction {
        var tx = NFTTransaction(family: table.family, table: table.table)
        tx.flush(.chain(name: chain, base: nil, comment: nil))
        return tx
    }
}
