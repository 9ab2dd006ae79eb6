import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyRuntime
import KubeProxyTesting
import Testing

@Suite("Upstream TestSyncProxyRulesRepeated, driven statefully through one proxier")
struct RepeatedSyncFixtureTests {
    @Test("ten syncs: full, partial syncs with stale-chain deletion, a failed partial restore, then a full resync")
    func tenSteps() async throws {
        let kernel = FakeIPTables()
        let first = try FixtureCase("sync_proxy_rules_repeated/step01").inputs()
        let proxier = IPTablesProxier(iptables: kernel, options: first.options)
        let steps = try FixtureCase("sync_proxy_rules_repeated").caseInfo["steps"] as! [[String: Any]]
        for step in steps {
            let dir = step["dir"] as! String
            let fixture = FixtureCase("sync_proxy_rules_repeated/\(dir)")
            if dir == "step09" {
                try kernel.appendRule(table: "nat", line: "-A KUBE-SVC-X27LE4BHSL4DOUIK -j KUBE-SEP-AYCN5HPXMIRJNJXU")
            }
            let before = await proxier.dataplane.metrics.partialRestoreFailures
            let outcome = await proxier.sync(try fixture.inputs().state)
            #expect(outcome.full == (step["sync"] as! String == "full"), "\(dir)")
            if step["expected"] is String {
                #expect(outcome.succeeded, "\(dir)")
                let payload = try #require(kernel.payloads.last)
                #expect(try IPTablesNormaliser.sorted(payload) == fixture.text("expected.txt"), "\(dir)")
                let metrics = step["metrics"] as! [String: Int]
                #expect(await proxier.dataplane.metrics.natRulesLast == metrics["kubeproxy_sync_proxy_rules_iptables_last{table=\"nat\"}"], "\(dir)")
                #expect(await proxier.dataplane.metrics.natRulesTotal == metrics["kubeproxy_sync_proxy_rules_iptables_total{table=\"nat\"}"], "\(dir)")
            } else {
                #expect(!outcome.succeeded, "\(dir) must fail")
                #expect(await proxier.dataplane.metrics.partialRestoreFailures == before + 1)
                #expect(await proxier.needFullSync)
                #expect(kernel.dump.table("nat")?.chain("KUBE-SEP-AYCN5HPXMIRJNJXU") != nil)
            }
        }
        // After the full resync the injected rule is gone and svc4's chains are deleted.
        let nat = try #require(kernel.dump.table("nat"))
        #expect(nat.chain("KUBE-SVC-4SW47YFZTEDKD3PK") == nil)
        #expect(nat.chain("KUBE-SVC-X27LE4BHSL4DOUIK")?.rules.contains { $0.target == "KUBE-SEP-AYCN5HPXMIRJNJXU" } == false)
    }

    @Test("a full sync ensures the built-in jump rules and the canary; a vanished canary fails the integrity check and forces a full sync")
    func jumpRulesAndCanary() async throws {
        let kernel = FakeIPTables()
        let inputs = try FixtureCase("sync_proxy_rules_repeated/step01").inputs()
        let proxier = IPTablesProxier(iptables: kernel, options: inputs.options)
        await proxier.sync(inputs.state)
        let nat = try #require(kernel.dump.table("nat"))
        #expect(nat.chain("PREROUTING")?.rules.map(\.line) == ["-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"])
        #expect(kernel.dump.table("filter")?.chain("INPUT")?.rules.first?.line == "-A INPUT -j KUBE-FIREWALL")
        #expect(await proxier.checkIntegrity())
        await proxier.sync(inputs.state)
        #expect(await !proxier.needFullSync)
        kernel.deleteChain(table: "mangle", chain: "KUBE-PROXY-CANARY")
        #expect(await !proxier.checkIntegrity())
        let outcome = await proxier.sync(inputs.state)
        #expect(outcome.full && outcome.succeeded)
        #expect(await proxier.checkIntegrity())
    }
}
