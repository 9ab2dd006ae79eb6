import Foundation
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import NFTablesRules
import Testing
import Yams

@Suite("Upstream nftables fixtures")
struct NFTablesFixtureTests {
    static let root = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/nftables")

    static func inputs(_ dir: String, config: String) throws -> ProxierInputs {
        var manifests = Manifests()
        try manifests.decode(String(contentsOf: root.appendingPathComponent(config), encoding: .utf8), source: "config.yaml")
        try manifests.decode(String(contentsOf: root.appendingPathComponent("\(dir)/cluster.yaml"), encoding: .utf8), source: "cluster.yaml")
        let hosts = ["127.0.0.1", "::1", "192.168.0.2", "192.168.1.2", "192.168.99.11", "2001:db8::1", "2001:db8:1::2"].map { IPAddress(sloppy: $0)! }
        return ProxierInputs(config: manifests.configurations[0], manifests: manifests, hostname: "test-node", hostAddresses: hosts, features: .init())
    }

    static func expected(_ dir: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent("\(dir)/expected.nft"), encoding: .utf8)
    }

    @Test("overall-rules: the first sync's table equals upstream's, after upstream's sort")
    func overall() throws {
        let table = try Self.inputs("overall-rules", config: "overall-rules/config.yaml").firstSyncNFTablesState()
        let sorted = NFTablesNormaliser.sorted(table.dump())
        #expect(sorted == NFTablesNormaliser.sorted(try Self.expected("overall-rules")))
        #expect(sorted.split(separator: "\n").count == 122)
        #expect(NFTablesNormaliser.sorted("add rule ip kube-proxy c a\nadd rule ip kube-proxy c b") != NFTablesNormaliser.sorted("add rule ip kube-proxy c b\nadd rule ip kube-proxy c a"))
    }

    @Test("sync-repeated: a full sync, a partial one of 10 operations, then a delete of 4 that flushes stale chains")
    func repeated() throws {
        let config = "sync-repeated/config.yaml"
        let first = try Self.inputs("sync-repeated/step01", config: config)
        let compiler = first.nftablesCompiler
        var table = NFTablesState(family: "ip", table: NFTablesCompiler.table)
        let plan1 = compiler.compile(first.state, scope: .full, previous: nil, existingChains: [], existingSets: [])
        try table.apply(plan1.transaction)
        #expect(NFTablesNormaliser.sorted(table.dump()) == NFTablesNormaliser.sorted(try Self.expected("sync-repeated/step01")))

        let second = try Self.inputs("sync-repeated/step02", config: config).state
        let plan2 = compiler.compile(second, scope: .partial(changedServices: second.changedServices(since: first.state)), previous: plan1.memory,
                                     existingChains: Set(table.chainNames), existingSets: Set(table.containerNames))
        #expect(plan2.transaction.count == 10)
        try table.apply(plan2.transaction)

        let third = try Self.inputs("sync-repeated/step03", config: config).state
        let plan3 = compiler.compile(third, scope: .partial(changedServices: third.changedServices(since: second)), previous: plan2.memory,
                                     existingChains: Set(table.chainNames), existingSets: Set(table.containerNames))
        #expect(plan3.transaction.count == 4)
        #expect(plan3.staleChains == ["endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080", "service-MHHHYRWA-ns2/svc2/tcp/p8080"])
        try table.apply(plan3.transaction)
        #expect(NFTablesNormaliser.sorted(table.dump()) == NFTablesNormaliser.sorted(try Self.expected("sync-repeated/step03")))

        // A later transaction deletes the stale chains; a sync with no change is empty.
        try table.apply(compiler.deleteChains(plan3.staleChains))
        #expect(!table.chainNames.contains { $0.contains("ns2/svc2") })
        let plan4 = compiler.compile(third, scope: .partial(changedServices: []), previous: plan3.memory,
                                     existingChains: Set(table.chainNames), existingSets: Set(table.containerNames))
        #expect(plan4.transaction.isEmpty)
    }

    @Test("the fake refuses dangling references and leaves the table unchanged")
    func atomic() throws {
        let table0 = try Self.inputs("sync-repeated/step01", config: "sync-repeated/config.yaml").firstSyncNFTablesState()
        var table = table0
        var tx = NFTTransaction(family: "ip", table: NFTablesCompiler.table)
        tx.add(.element(container: "cluster-ips", key: "172.30.0.99", value: nil, comment: nil))
        tx.add(.rule(chain: "services", text: "jump no-such-chain"))
        #expect(throws: NFTablesError.self) { try table.apply(tx) }
        #expect(table == table0)
    }
}
