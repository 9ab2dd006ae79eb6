import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyTesting
import Testing

@Suite("Upstream full-sync fixtures")
struct FullSyncFixtureTests {
    @Test("overall_iptables_rules renders byte-identical after upstream's sort")
    func overall() throws {
        let fixture = FixtureCase("overall_iptables_rules")
        let inputs = try fixture.inputs()
        let payload = inputs.firstSyncPayload()
        #expect(try IPTablesNormaliser.sorted(payload) == fixture.text("expected.txt"))
        #expect(IPTablesNormaliser.consistencyProblems(try fixture.text("expected.txt")).isEmpty)
        #expect(IPTablesNormaliser.consistencyProblems(payload).isEmpty)
        let plan = IPTablesCompiler(options: inputs.options).compile(inputs.state, scope: .full, existingNATChains: [])
        #expect(plan.natRuleTotal == 55)
    }

    static let chainCases: [String] = {
        let dir = FixtureCase.root.appendingPathComponent("chain_level_cases")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { !$0.hasSuffix(".yaml") }.sorted()
    }()

    @Test("chain-level cases", arguments: chainCases)
    func chainLevel(_ name: String) throws {
        let fixture = FixtureCase("chain_level_cases/\(name)")
        let info = try fixture.caseInfo
        let payload = try fixture.inputs().firstSyncPayload()
        let actual = try IPTablesNormaliser.chainRules(payload, table: info["table"] as! String, chain: info["chain"] as! String)
        #expect(actual == (try fixture.text("expected.txt")))
    }

    @Test("step01 of sync_proxy_rules_repeated renders exactly; step10 up to its stale-chain lines")
    func repeatedStatelessSteps() throws {
        let step1 = FixtureCase("sync_proxy_rules_repeated/step01")
        #expect(try IPTablesNormaliser.sorted(step1.inputs().firstSyncPayload()) == step1.text("expected.txt"))
        let step10 = FixtureCase("sync_proxy_rules_repeated/step10")
        let stale = ["KUBE-SEP-AYCN5HPXMIRJNJXU", "KUBE-SVC-4SW47YFZTEDKD3PK"]
        let expected = try step10.text("expected.txt").split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in !stale.contains { line == ":\($0) - [0:0]" || line == "-X \($0)" } }.joined(separator: "\n")
        #expect(try IPTablesNormaliser.sorted(step10.inputs().firstSyncPayload()) == expected)
    }
}
