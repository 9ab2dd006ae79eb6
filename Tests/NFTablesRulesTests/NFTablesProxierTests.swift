import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import NFTablesRules
import Testing

@Suite("The nftables proxier against a fake nft", .serialized)
struct NFTablesProxierTests {
    static let options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.19.0.0/16")!),
                                                 nodePortAddresses: NodePortAddresses([], family: .ipv4), features: KernelFeatures())

    @Test("a replaced endpoint's chain is flushed at once and deleted inside a later sync's transaction")
    func staleChainFoldedIntoLaterSync() async throws {
        let nft = FakeNFTables()
        let proxier = NFTablesProxier(nft: nft, options: Self.options, family: .ipv4)
        let a = SyntheticCluster.state(services: 5, endpoints: 2)
        #expect(await proxier.sync(a).succeeded)
        let b = SyntheticCluster.changingOneEndpoint(a, index: 2)
        #expect(await proxier.sync(b).succeeded)
        let stale = try #require(await proxier.dataplane.lastPlan?.staleChains.first)
        #expect(nft.table.chainNames.contains(stale))
        let afterB = nft.transactions.count

        // Within the second: nothing to delete, and nothing changed, so no nft call at all.
        #expect(await proxier.sync(b).succeeded)
        #expect(nft.transactions.count == afterB)

        // Later, with a change: one transaction carries the change and the deletion.
        try await Task.sleep(for: .milliseconds(1100))
        let c = SyntheticCluster.changingOneEndpoint(b, index: 4)
        #expect(await proxier.sync(c).succeeded)
        #expect(nft.transactions.count == afterB + 1)
        #expect(!nft.table.chainNames.contains(stale))
        #expect(nft.transactions.last!.rendered().contains("delete chain ip kube-proxy \(stale)"))
    }

    @Test("a kernel that refuses the deletion: the sync still succeeds (retried without it), the chain waits")
    func refusedDeletion() async throws {
        let nft = FakeNFTables()
        let proxier = NFTablesProxier(nft: nft, options: Self.options, family: .ipv4)
        let a = SyntheticCluster.state(services: 5, endpoints: 2)
        #expect(await proxier.sync(a).succeeded)
        let b = SyntheticCluster.changingOneEndpoint(a, index: 1)
        #expect(await proxier.sync(b).succeeded)
        let stale = try #require(await proxier.dataplane.lastPlan?.staleChains.first)
        try await Task.sleep(for: .milliseconds(1100))
        nft.refuse { $0.rendered().contains("delete chain") }
        let c = SyntheticCluster.changingOneEndpoint(b, index: 3)
        let outcome = await proxier.sync(c)
        #expect(outcome.succeeded && !outcome.full)
        #expect(nft.table.chainNames.contains(stale))
        // The change itself was applied: Service 3's first endpoint moved (to 198.19.255.254).
        #expect(nft.table.chainNames.contains { $0.hasSuffix("svc-00003/tcp/http__198.19.255.254/8080") })
        #expect(await proxier.fullSyncs == 1)

        // Once the kernel lets go, a later sync deletes it (alone, as nothing else changed).
        nft.refuse(when: nil)
        #expect(await proxier.sync(c).succeeded)
        #expect(!nft.table.chainNames.contains(stale))
    }

    @Test("a table deleted from outside: the check notices, the next sync is full and rebuilds it")
    func tableDeleted() async throws {
        let nft = FakeNFTables()
        let proxier = NFTablesProxier(nft: nft, options: Self.options, family: .ipv4)
        let a = SyntheticCluster.state(services: 3, endpoints: 2)
        #expect(await proxier.sync(a).succeeded)
        let built = nft.table.dump()
        nft.deleteTable()
        #expect(await !proxier.checkIntegrity())
        let outcome = await proxier.sync(a)
        #expect(outcome.succeeded && outcome.full)
        #expect(nft.table.dump() == built)
    }
}
