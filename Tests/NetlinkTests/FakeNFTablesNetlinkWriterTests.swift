import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import Logging
import Netlink
import NFTablesRules
import Testing

/// The nftables netlink writer end to end without root: the real nftables proxier writes through
/// it into ``FakeNFTablesNetlink`` (its `nft` fallback into the same table), and refusals come
/// back as the kernel sends them.
@Suite("FakeNFTablesNetlink under the nftables netlink writer")
struct FakeNFTablesNetlinkWriterTests {
    static let options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4))
    static var quiet: Logger { var logger = Logger(label: "test"); logger.logLevel = .critical; return logger }

    /// A proxier on the writer, over a fake kernel sharing the writer's fake `nft`.
    static func proxier() -> (NFTablesProxier, NFTablesNetlinkWriter, FakeNFTablesNetlink) {
        let kernel = FakeNFTablesNetlink(sharing: FakeNFTables())
        let writer = NFTablesNetlinkWriter(nft: kernel.nft, socket: kernel, logger: quiet)
        return (NFTablesProxier(nft: writer, options: options, family: .ipv4, logger: quiet), writer, kernel)
    }

    /// Where `live` differs from a fresh full sync of `state` (flushed chains waiting for deletion aside).
    static func drift(_ live: NFTablesState, from state: ProxyState) async -> [String] {
        let fresh = FakeNFTables()
        guard await NFTablesProxier(nft: fresh, options: options, family: .ipv4, logger: quiet).sync(state).succeeded else { return ["fresh sync failed"] }
        let waiting = Set(live.chainNames).subtracting(fresh.table.chainNames).filter { live.chains[$0]!.rules.isEmpty }
        let skip = Set(waiting.map { NFTObject.chain(name: $0, base: nil, comment: nil).line("add", family: "ip", table: NFTablesCompiler.table) })
        let got = NFTablesNormaliser.sorted(NFTRoundTrip.canonical(live.dump())).split(separator: "\n").filter { !skip.contains(String($0)) }
        let want = NFTablesNormaliser.sorted(NFTRoundTrip.canonical(fresh.table.dump())).split(separator: "\n")
        guard got != want else { return [] }
        return Set(got).symmetricDifference(want).sorted().map { (Set(got).contains($0) ? "live only: " : "fresh only: ") + $0 }
    }

    @Test("a full sync, then random partial syncs over netlink: each leaves a fresh full sync's table", arguments: [1, 2, 3] as [UInt64])
    func partialSyncs(seed: UInt64) async throws {
        let (proxier, writer, kernel) = Self.proxier()
        var cluster = RandomCluster(seed: seed)
        var state = cluster.initial()
        #expect(await proxier.sync(state).succeeded)
        #expect(writer.transactions == (netlink: 0, nft: 1), "the first sync sets the table up through nft")
        for step in 0..<15 {
            let changes = cluster.change(&state)
            let outcome = await proxier.sync(state)
            #expect(outcome.succeeded && !outcome.full, "seed \(seed), step \(step): \(outcome.error ?? "")")
            let drift = await Self.drift(kernel.nft.table, from: state)
            #expect(drift.isEmpty, "seed \(seed), step \(step) after \(changes): \(drift)")
        }
        // A second on, a sync deletes the stale chains in a batch of its own: nothing is left over.
        try await Task.sleep(for: .milliseconds(1100))
        #expect(await proxier.sync(state).succeeded)
        let fresh = FakeNFTables()
        #expect(await NFTablesProxier(nft: fresh, options: Self.options, family: .ipv4, logger: Self.quiet).sync(state).succeeded)
        #expect(Set(kernel.nft.table.chainNames) == Set(fresh.table.chainNames))
        #expect(await Self.drift(kernel.nft.table, from: state).isEmpty)
        #expect(writer.transactions.netlink >= 10 && kernel.transactions.count == writer.transactions.netlink, "\(writer.transactions)")
        #expect(kernel.transactions.contains { $0.rendered().contains("delete chain") }, "stale chains were deleted over netlink")
        #expect(await proxier.checkIntegrity(), "rule and element dumps answer as the table holds")
    }

    @Test("a refused batch (refuseNext) changes nothing and names the operation")
    func refusedByTest() async throws {
        let (proxier, writer, kernel) = Self.proxier()
        let state = SyntheticCluster.state(services: 4, endpoints: 2)
        #expect(await proxier.sync(state).succeeded)
        let before = kernel.nft.table
        kernel.refuseNext(at: 2, errno: 16)
        var tx = NFTTransaction(family: "ip", table: NFTablesCompiler.table)
        tx.add(.chain(name: "extra", base: nil, comment: nil))
        tx.add(.rule(chain: "extra", text: "ip saddr 198.18.1.9 jump mark-for-masquerade"))
        let error = try await #require(throws: NFTablesError.self) { try await writer.run(tx) }
        #expect(error.operation == 2 && error.message.contains("errno 16") && error.message.contains("add rule ip kube-proxy extra ip saddr 198.18.1.9"), "\(error)")
        #expect(kernel.nft.table == before)
    }

    @Test("what the table refuses comes back as the kernel's errno at the failing message; nothing applies",
          arguments: [("goto no-such-chain", Int32(2), "no such chain"), ("goto reject-chain", Int32(17), "exists with another value")])
    func refusedByTable(value: String, errno: Int32, reason: String) async throws {
        let (proxier, writer, kernel) = Self.proxier()
        #expect(await proxier.sync(SyntheticCluster.state(services: 4, endpoints: 2)).succeeded)
        let before = kernel.nft.table
        let taken = try #require(before.containers["service-ips"]?.keys.first)
        var tx = NFTTransaction(family: "ip", table: NFTablesCompiler.table)
        tx.add(.chain(name: "extra", base: nil, comment: nil))
        tx.add(.element(container: "service-ips", key: errno == 2 ? "198.19.9.9 . tcp . 80" : taken, value: value, comment: nil))
        let error = try await #require(throws: NFTablesError.self) { try await writer.run(tx) }
        #expect(error.operation == 2 && error.message.contains("errno \(errno)") && error.message.contains(reason), "\(error)")
        #expect(kernel.nft.table == before && !kernel.nft.table.chainNames.contains("extra"))
    }
}
