import Foundation
import NFTablesRules

/// The nftables operations a proxier needs; ``NFTCommands`` runs `nft`, and tests use a fake.
public protocol NFTablesInterface: Sendable {
    /// Applies `transaction` in one `nft -f -` call: all of it or nothing.
    /// - Throws: ``NFTablesError`` with nft's message.
    func run(_ transaction: NFTTransaction) async throws
    /// Checks `transaction` without applying it (`nft --check -f -`).
    func check(_ transaction: NFTTransaction) async throws
    /// The names of the chains of the table (empty when the table does not exist).
    func listChains(family: String, table: String) async throws -> [String]
    /// The names of the sets and maps of the table.
    func listSets(family: String, table: String) async throws -> [String]
    /// Whether the table exists.
    func tableExists(family: String, table: String) async -> Bool
    /// How many rules each of `chains` and elements each of `containers` (sets, maps) holds; a
    /// set that does not exist is left out, a chain that does not exist may count 0 rules.
    func summary(family: String, table: String, chains: Set<String>, containers: Set<String>) async throws -> NFTTableSummary
}

/// Runs the real `nft`.
public struct NFTCommands: NFTablesInterface {
    let runner: any CommandRunner
    public init(runner: any CommandRunner) { self.runner = runner }

    public func run(_ transaction: NFTTransaction) async throws {
        let r = try await runner.run("nft", ["-f", "-"], stdin: transaction.renderedForNFT())
        guard r.succeeded else { throw Self.error(r.stderr) }
    }

    public func check(_ transaction: NFTTransaction) async throws {
        let r = try await runner.run("nft", ["--check", "-f", "-"], stdin: transaction.renderedForNFT())
        guard r.succeeded else { throw Self.error(r.stderr) }
    }

    public func listChains(family: String, table: String) async throws -> [String] {
        try await list("chains", key: "chain", family: family, table: table)
    }

    /// Sets and maps (`nft list sets` leaves maps out).
    public func listSets(family: String, table: String) async throws -> [String] {
        try await list("sets", key: "set", family: family, table: table) + list("maps", key: "map", family: family, table: table)
    }

    /// `nft --check create table`: refused with "File exists" exactly when the table is there.
    /// Costs milliseconds at any size, where `nft list table(s)` dumps every object (seconds at 10k Services).
    public func tableExists(family: String, table: String) async -> Bool {
        guard let r = try? await runner.run("nft", ["--check", "create", "table", family, table]) else { return false }
        return !r.succeeded && r.stderr.contains("File exists")
    }

    /// `nft list table`, counted (``NFTTableSummary/parse(listing:)``): the whole table, seconds at 10k Services.
    public func summary(family: String, table: String, chains: Set<String>, containers: Set<String>) async throws -> NFTTableSummary {
        let r = try await runner.run("nft", ["list", "table", family, table])
        guard r.succeeded else { throw Self.error(r.stderr) }
        let all = NFTTableSummary.parse(listing: r.stdout)
        return NFTTableSummary(rules: all.rules.filter { chains.contains($0.key) }, elements: all.elements.filter { containers.contains($0.key) })
    }

    /// `nft --json list <kind> <family>`, filtered to `table`.
    private func list(_ kind: String, key: String, family: String, table: String) async throws -> [String] {
        let r = try await runner.run("nft", ["--json", "list", kind, family])
        guard r.succeeded else { throw Self.error(r.stderr) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              let items = object["nftables"] as? [[String: Any]] else { return [] }
        return items.compactMap { item in
            guard let entry = item[key] as? [String: Any], entry["table"] as? String == table else { return nil }
            return entry["name"] as? String
        }
    }

    /// nft's message, with the 1-based line of the transaction it names (`/dev/stdin:12:...`).
    static func error(_ stderr: String) -> NFTablesError {
        var line = 0
        if let range = stderr.range(of: "stdin:") {
            line = Int(stderr[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
        return NFTablesError(code: .commandFailed, operation: line, message: stderr.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
