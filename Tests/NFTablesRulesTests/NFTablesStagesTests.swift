import Foundation
import KubeProxyCore
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import NFTablesRules
import Testing

@Suite("Staged nftables syncs")
struct NFTablesStagesTests {
    static func applied(_ transactions: [NFTTransaction], to start: NFTablesState) throws -> NFTablesState {
        var table = start
        for tx in transactions { try table.apply(tx) }
        return table
    }

    @Test("a first sync in stages of 2 Service ports leaves the same table as one transaction")
    func firstSync() throws {
        let inputs = try NFTablesFixtureTests.inputs("overall-rules", config: "overall-rules/config.yaml")
        let plan = inputs.nftablesCompiler.compile(inputs.state, scope: .full, previous: nil, existingChains: [], existingSets: [])
        let empty = NFTablesState(family: "ip", table: NFTablesCompiler.table)
        let stages = plan.stages(servicesPerStage: 2)
        // Containers first, then ceil(ports / 2) stages, then the setup with elements.
        #expect(stages.count == 2 + (plan.perService.count + 1) / 2)
        #expect(stages.dropFirst().dropLast().allSatisfy { $0.operations.allSatisfy { $0.object.kind == "chain" || $0.object.kind == "rule" || $0.object.kind == "set" } })
        #expect(stages.map(\.count).reduce(0, +) > plan.transaction.count)
        let single = try Self.applied([plan.transaction], to: empty)
        #expect(NFTablesNormaliser.sorted(try Self.applied(stages, to: empty).dump()) == NFTablesNormaliser.sorted(single.dump()))
        // No stage reaches a Service chain before the last one fills the maps.
        let beforeLast = try Self.applied(Array(stages.dropLast()), to: empty)
        #expect(!beforeLast.dump().contains("add element ip kube-proxy service-ips"))
    }

    @Test("a full resync over an older table, in stages, equals the single transaction, stale chains included")
    func resync() throws {
        let config = "sync-repeated/config.yaml"
        let first = try NFTablesFixtureTests.inputs("sync-repeated/step01", config: config)
        let old = try first.firstSyncNFTablesState()
        let third = try NFTablesFixtureTests.inputs("sync-repeated/step03", config: config).state
        let plan = first.nftablesCompiler.compile(third, scope: .full, previous: nil, existingChains: Set(old.chainNames), existingSets: Set(old.containerNames))
        #expect(!plan.staleChains.isEmpty)
        let stages = plan.stages(servicesPerStage: 1)
        #expect(stages.count > 3)
        #expect(NFTablesNormaliser.sorted(try Self.applied(stages, to: old).dump()) == NFTablesNormaliser.sorted(try Self.applied([plan.transaction], to: old).dump()))
    }

    @Test("small syncs and a stage size of 0 stay one transaction")
    func single() throws {
        let inputs = try NFTablesFixtureTests.inputs("overall-rules", config: "overall-rules/config.yaml")
        let plan = inputs.nftablesCompiler.compile(inputs.state, scope: .full, previous: nil, existingChains: [], existingSets: [])
        #expect(plan.stages(servicesPerStage: 0) == [plan.transaction])
        #expect(plan.stages(servicesPerStage: plan.perService.count) == [plan.transaction])
    }

    @Test("partial syncs copy unchanged Service ports from memory and reach the table a full sync builds")
    func partialCopies() throws {
        let inputs = try NFTablesFixtureTests.inputs("overall-rules", config: "overall-rules/config.yaml")
        let compiler = inputs.nftablesCompiler
        var state = SyntheticCluster.state(services: 30, endpoints: 3)
        var table = NFTablesState(family: "ip", table: NFTablesCompiler.table)
        var plan = compiler.compile(state, scope: .full, previous: nil, existingChains: [], existingSets: [])
        try table.apply(plan.transaction)
        #expect(plan.memory.services.count == 30)
        for index in [3, 17, 17, 29] {
            let next = SyntheticCluster.changingOneEndpoint(state, index: index)
            let changed = next.changedServices(since: state)
            #expect(changed.count == 1)
            plan = compiler.compile(next, scope: .partial(changedServices: changed), previous: plan.memory,
                                    existingChains: plan.activeChains, existingSets: plan.activeAffinitySets)
            try table.apply(plan.transaction)
            try table.apply(compiler.deleteChains(plan.staleChains))
            state = next
            let fresh = try Self.applied([compiler.compile(state, scope: .full, previous: nil, existingChains: [], existingSets: []).transaction],
                                         to: NFTablesState(family: "ip", table: NFTablesCompiler.table))
            #expect(NFTablesNormaliser.sorted(table.dump()) == NFTablesNormaliser.sorted(fresh.dump()))
            #expect(plan.transaction.count <= 17, "only the changed port is written (its 4 chains, 1 stale flush): \(plan.transaction.count) operations")
        }
    }
}
