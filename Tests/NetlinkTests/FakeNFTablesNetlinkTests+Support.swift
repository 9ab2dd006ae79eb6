import Foundation
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import Netlink
import NFTablesRules
import NFTablesWire
import Synchronization
import Testing

/// The same transactions two ways: as text on a plain ``FakeNFTables``, and through the encoder
/// into ``FakeNFTablesNetlink`` (what the encoder leaves to `nft`, the setup, as text on the
/// fake's table, as the writer does).
final class NFTRoundTrip: Sendable {
    let plain: FakeNFTables, kernel: FakeNFTablesNetlink
    /// Batches sent, transactions left to text, rules and elements that went through netlink.
    let counts = Mutex((batches: 0, text: 0, rules: 0, elements: 0))

    init(family: String = "ip") {
        plain = FakeNFTables(family: family)
        kernel = FakeNFTablesNetlink(sharing: FakeNFTables(family: family))
    }

    func run(_ tx: NFTTransaction) async throws {
        guard !tx.isEmpty else { return }
        try await plain.run(tx)
        let encoded: NFTNetlinkEncoder.Encoded
        do {
            encoded = try NFTNetlinkEncoder().encode(tx, firstSequence: kernel.nextSequence(count: UInt32(tx.count * 3 + 2)) + 1)
        } catch is NFTWireError {
            try await kernel.nft.run(tx)
            counts.withLock { $0.text += 1 }
            return
        }
        let batch = NFTablesNetlink.batch(encoded.messages, begin: encoded.messages[0].sequence - 1, end: encoded.messages.last!.sequence + 1)
        let kernel = kernel
        try await BlockingIO.run { try kernel.transaction(batch) }
        #expect(kernel.transactions.last.map(Self.canonical) == Self.canonical(tx), "the batch decodes to the transaction")
        counts.withLock { c in
            c.batches += 1
            for op in tx.operations {
                if case .rule = op.object { c.rules += 1 } else if case .element = op.object { c.elements += 1 }
            }
        }
    }

    /// A plan's pieces in the order they can apply one by one: setup, each Service port, then elements.
    func run(_ plan: NFTablesSyncPlan) async throws {
        for tx in [plan.setup] + plan.perService + [plan.tail] { try await run(tx) }
    }

    /// Whether both tables hold the same, in the same order (rules in nft's words).
    func expectSame(_ context: String) {
        let (got, want) = (Self.canonical(kernel.nft.table.dump()), Self.canonical(plain.table.dump()))
        let (gotLines, wantLines) = (Set(got.split(separator: "\n")), Set(want.split(separator: "\n")))
        #expect(got == want, "\(context): only through netlink: \(gotLines.subtracting(wantLines).sorted()); only as text: \(wantLines.subtracting(gotLines).sorted())")
    }

    static func canonical(_ tx: NFTTransaction) -> String { canonical(tx.rendered()) }

    /// `text` with each line's anonymous source set as the kernel keeps it and nft lists it:
    /// sorted, a set of one as its element, whole addresses without `/32` (`/128`).
    static func canonical(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let line = String(line)
            guard let open = line.range(of: "saddr != { "), let close = line.range(of: " }", range: open.upperBound..<line.endIndex) else { return line }
            let items = line[open.upperBound..<close.lowerBound].components(separatedBy: ", ").map { item -> ([UInt8], String) in
                let cidr = CIDR(sloppy: item) ?? IPAddress(sloppy: item).map { CIDR(address: $0, prefixLength: $0.bytes.count * 8) }!
                return (cidr.address.bytes, cidr.prefixLength == cidr.address.bytes.count * 8 ? cidr.address.description : cidr.description)
            }.sorted { $0.0.lexicographicallyPrecedes($1.0) }.map(\.1)
            let list = items.count == 1 ? items[0] : "{ \(items.joined(separator: ", ")) }"
            return String(line[..<open.lowerBound]) + "saddr != " + list + String(line[close.upperBound...])
        }.joined(separator: "\n")
    }
}

/// Upstream's nftables fixtures (a case folder: `config.yaml`, and `cluster.yaml` or steps with one each).
enum NFTFixtures {
    /// The in-repo copy, else the shared one; a test fails when neither is there.
    static func root() throws -> URL {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let candidates = ["../NFTablesRulesTests/Fixtures/nftables", "../../../shared/fixtures/nftables"].map { here.appendingPathComponent($0).standardized }
        return try #require(candidates.first { FileManager.default.fileExists(atPath: $0.path) }, "no nftables fixtures at \(candidates.map(\.path))")
    }

    /// Each case's name, configuration and steps (folders with a `cluster.yaml`), in order.
    static func cases() throws -> [(name: String, config: URL, steps: [URL])] {
        let root = try root(), files = FileManager.default
        return try files.contentsOfDirectory(atPath: root.path).sorted().compactMap { name in
            let dir = root.appendingPathComponent(name)
            guard files.fileExists(atPath: dir.appendingPathComponent("config.yaml").path) else { return nil }
            if files.fileExists(atPath: dir.appendingPathComponent("cluster.yaml").path) { return (name, dir.appendingPathComponent("config.yaml"), [dir]) }
            let steps = try files.contentsOfDirectory(atPath: dir.path).sorted().map { dir.appendingPathComponent($0) }
                .filter { files.fileExists(atPath: $0.appendingPathComponent("cluster.yaml").path) }
            return (name, dir.appendingPathComponent("config.yaml"), steps)
        }
    }

    /// A step's inputs, as `NFTablesFixtureTests` builds them.
    static func inputs(config: URL, step: URL) throws -> ProxierInputs {
        var manifests = Manifests()
        try manifests.decode(String(contentsOf: config, encoding: .utf8), source: "config.yaml")
        try manifests.decode(String(contentsOf: step.appendingPathComponent("cluster.yaml"), encoding: .utf8), source: "cluster.yaml")
        let hosts = ["127.0.0.1", "::1", "192.168.0.2", "192.168.1.2", "192.168.99.11", "2001:db8::1", "2001:db8:1::2"].map { IPAddress(sloppy: $0)! }
        return ProxierInputs(config: manifests.configurations[0], manifests: manifests, hostname: "test-node", hostAddresses: hosts, features: .init())
    }
}
