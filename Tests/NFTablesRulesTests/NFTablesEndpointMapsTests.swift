import Foundation
import KubeProxyCore
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import NFTablesRules
import Testing

/// The `endpoint-maps` layout on upstream's overall-rules cluster: the whole first-sync table
/// (a fixture reviewed by hand: one interval map per Service port and policy, no endpoint chain
/// but the affinity Service's, the hairpin set and its postrouting rule), and endpoint changes
/// that write map elements only.
@Suite("nftables endpoint-maps layout")
struct NFTablesEndpointMapsTests {
    static func inputs() throws -> ProxierInputs {
        var inputs = try NFTablesFixtureTests.inputs("overall-rules", config: "overall-rules/config.yaml")
        inputs.options.common.nftablesLayout = .endpointMaps
        return inputs
    }

    @Test("overall-rules in the endpoint-maps layout: the first sync's table equals the fixture")
    func overall() throws {
        let table = try Self.inputs().firstSyncNFTablesState()
        let expected = try String(contentsOf: NFTablesFixtureTests.root.appendingPathComponent("endpoint-maps/expected.nft"), encoding: .utf8)
        let matches = NFTablesNormaliser.sorted(table.dump()) == NFTablesNormaliser.sorted(expected)
        if !matches { try? table.dump().write(toFile: NSTemporaryDirectory() + "endpoint-maps-actual.nft", atomically: true, encoding: .utf8) }
        #expect(matches, "the table differs from Fixtures/nftables/endpoint-maps/expected.nft (this run's: endpoint-maps-actual.nft in the temporary directory)")
        // Endpoint chains only for affinity: each has its affinity set.
        let endpointChains = table.chainNames.filter { $0.hasPrefix("endpoint-") }
        #expect(!endpointChains.isEmpty && endpointChains.allSatisfy { table.containerNames.contains("affinity-" + $0.dropFirst("endpoint-".count)) })
        #expect(table.containerNames.filter { $0.hasPrefix("cluster-endpoints-") }.count == 4, "one per Service port without affinity")
    }

    @Test("slot ranges: every endpoint gets its share of the 65536 slots, the ranges cover them all")
    func slotRanges() {
        for count in [1, 2, 3, 7, 10, 1000] {
            let endpoints = (0..<count).map { Endpoint(ip: .v4(0xC612_0100 + UInt32($0)), port: 8080) }
            let ranges = NFTablesCompiler.endpointMapElements(endpoints).map { element -> (Int, Int) in
                let bounds = element.key.split(separator: "-").map { Int($0)! }
                return (bounds[0], bounds[1])
            }
            #expect(ranges.count == count && ranges.first?.0 == 0 && ranges.last?.1 == 65535)
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.1 + 1 == $1.0 }, "contiguous for \(count)")
            let sizes = ranges.map { $0.1 - $0.0 + 1 }
            #expect(sizes.max()! - sizes.min()! <= 1, "even for \(count): \(sizes.min()!)...\(sizes.max()!)")
        }
    }

    @Test("an endpoint change is element updates only (no chain, rule, jump or goto), and equals a full sync")
    func endpointChangeIsElementsOnly() throws {
        let inputs = try Self.inputs()
        let compiler = inputs.nftablesCompiler
        let first = compiler.compile(inputs.state, scope: .full, previous: nil, existingChains: [], existingSets: [])
        var table = NFTablesState(family: "ip", table: NFTablesCompiler.table)
        try table.apply(first.transaction)

        var changed = inputs.state
        let name = try #require(changed.sortedServicePortNames.first { (changed.endpoints[$0]?.count ?? 0) >= 2 && changed.services[$0]?.stickyMaxAgeSeconds == nil })
        changed.endpoints[name] = Array(changed.endpoints[name]!.dropFirst()) + [Endpoint(ip: .v4(0x0A00_0163), port: 80)]
        let partial = compiler.compile(changed, scope: .partial(changedServices: [name.namespacedName]), previous: first.memory,
                                       existingChains: Set(table.chainNames), existingSets: Set(table.containerNames))
        #expect(!partial.transaction.isEmpty)
        for op in partial.transaction.operations {
            switch (op.verb, op.object) {
            case (_, .element), (.flush, .map): break
            default: Issue.record("not an element update: \(op.object.line(op.verb.rawValue, family: "ip", table: "kube-proxy"))")
            }
        }
        try table.apply(partial.transaction)
        var fresh = NFTablesState(family: "ip", table: NFTablesCompiler.table)
        try fresh.apply(compiler.compile(changed, scope: .full, previous: nil, existingChains: [], existingSets: []).transaction)
        #expect(NFTablesNormaliser.sorted(table.dump()) == NFTablesNormaliser.sorted(fresh.dump()))
    }
}
