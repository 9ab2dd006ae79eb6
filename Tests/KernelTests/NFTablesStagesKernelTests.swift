import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import NFTablesRules
import Testing

/// Staged nftables syncs against the kernel: two namespaces, one proxier sending each sync as one
/// transaction (upstream's way), one in stages of 7 Service ports; the kernel must hold the same
/// table after a first sync, a one-endpoint update and a resync.
@Suite("Kernel: staged nftables syncs", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct NFTablesStagesKernelTests {
    /// A namespace that is deleted when the value goes away.
    final class Namespace: Sendable {
        let name: String
        init(_ name: String) throws {
            self.name = name
            let r = Lab.shell("ip netns add \(name)")
            if r.status != 0 { throw LabError(message: "ip netns add \(name): \(r.output)") }
        }
        deinit { delete() }
        /// Deletes the namespace (also called by the tests' `defer`: deinit alone may come late).
        func delete() { _ = Lab.shell("ip netns del \(name) 2>/dev/null") }
        var runner: NamespacedRunner { NamespacedRunner(namespace: name, base: SubprocessCommandRunner()) }

        /// `nft list table`, as a sorted list of top-level blocks (chain order is creation order).
        func table() -> [String] {
            let out = Lab.shell("ip netns exec \(name) nft list table ip kube-proxy").output
            var blocks: [String] = [], current = ""
            for line in out.split(separator: "\n") where line != "}" {
                if line.hasPrefix("\tchain ") || line.hasPrefix("\tset ") || line.hasPrefix("\tmap ") {
                    if !current.isEmpty { blocks.append(current) }
                    current = ""
                }
                current += line + "\n"
            }
            blocks.append(current)
            return blocks.sorted()
        }
    }

    /// The blocks only one side has (empty when the tables are equal), for short failure messages.
    static func difference(_ a: [String], _ b: [String]) -> [String] {
        let (x, y) = (Set(a), Set(b))
        return Array(x.subtracting(y).sorted().prefix(2)) + Array(y.subtracting(x).sorted().prefix(2))
    }

    static let options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!),
                                                 nodePortAddresses: NodePortAddresses([], family: .ipv4), features: KernelFeatures())

    @Test("stages of 7 ports leave the table one transaction leaves, through a first sync, an update and a resync")
    func sameTable() async throws {
        let tag = "skps\(getpid())"
        let single = try Namespace("\(tag)-a"), staged = try Namespace("\(tag)-b")
        defer { single.delete(); staged.delete() }
        let one = NFTablesProxier(nft: NFTCommands(runner: single.runner), options: Self.options, family: .ipv4, servicesPerTransaction: 0)
        let many = NFTablesProxier(nft: NFTCommands(runner: staged.runner), options: Self.options, family: .ipv4, servicesPerTransaction: 7)
        let state = SyntheticCluster.state(services: 40, endpoints: 3)
        for (proxier, next) in [(one, state), (many, state)] { #expect(await proxier.sync(next).succeeded) }
        let first = single.table()
        #expect(first.count > 40 * 4)
        #expect(Self.difference(staged.table(), first) == [])
        #expect(await many.dataplane.lastPlan?.stages(servicesPerStage: 7).count == 2 + (40 + 6) / 7)

        let changed = SyntheticCluster.changingOneEndpoint(state, index: 20)
        for proxier in [one, many] { #expect(await proxier.sync(changed).succeeded) }
        #expect(Self.difference(staged.table(), single.table()) == [])
        #expect(staged.table() != first)

        for proxier in [one, many] { await proxier.forceFullSync(); #expect(await proxier.sync(state).succeeded) }
        #expect(Self.difference(staged.table(), single.table()) == [])
    }

    @Test("a table deleted from outside is noticed (cheaply) and rebuilt by the next sync")
    func tableDeleted() async throws {
        let ns = try Namespace("skpd\(getpid())")
        defer { ns.delete() }
        let nft = NFTCommands(runner: ns.runner)
        #expect(await !nft.tableExists(family: "ip", table: NFTablesCompiler.table))
        let proxier = NFTablesProxier(nft: nft, options: Self.options, family: .ipv4, servicesPerTransaction: 7)
        let state = SyntheticCluster.state(services: 20, endpoints: 2)
        #expect(await proxier.sync(state).succeeded)
        let built = ns.table()
        #expect(await nft.tableExists(family: "ip", table: NFTablesCompiler.table))
        #expect(await proxier.checkIntegrity())
        _ = Lab.shell("ip netns exec \(ns.name) nft delete table ip kube-proxy")
        #expect(await !proxier.checkIntegrity())
        let outcome = await proxier.sync(state)
        #expect(outcome.succeeded && outcome.full)
        #expect(ns.table() == built)
    }
}
