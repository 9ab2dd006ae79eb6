import KubeProxyCore
import KubeProxyModel
import KubeProxyTesting
import NFTablesRules
import Testing

/// Partial syncs compute only the changed Services and take the rest from memory: after any run
/// of changes the table (and the memory) must be what a fresh full sync of the same state builds.
@Suite("nftables partial syncs follow the change")
struct NFTablesChangesTests {
    /// A small deterministic generator (SplitMix64), so a failure names a reproducible seed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Service `s` of the varied cluster: 1 to 3 ports sharing its ClusterIP (so the cluster-ips
    /// key is wanted by several ports), sometimes a NodePort, an external IP, affinity, eTP=Local.
    static func service(_ s: Int, ports: Int, variant: Int, into state: inout ProxyState, endpoints: Int) {
        for port in 0..<ports {
            let name = ServicePortName(namespace: "ns", name: "svc\(s)", port: "p\(port)", protocol: port == 2 ? .udp : .tcp)
            state.services[name] = ServicePortInfo(
                name: name, clusterIP: .v4(0xC613_0000 + UInt32(s)), port: 80 + port, nodePort: variant % 3 == 0 ? 30_000 + s * 3 + port : 0,
                externalIPs: variant % 4 == 1 ? [.v4(0xC612_0500 + UInt32(s % 3))] : [], stickyMaxAgeSeconds: variant % 5 == 2 ? 600 : nil,
                externalPolicyLocal: variant % 3 == 0 && variant % 2 == 1)
            state.endpoints[name] = (0..<endpoints).map { Endpoint(ip: .v4(0xC612_0100 + UInt32((s * 7 + $0) % 250)), port: 8080 + port, isLocal: $0 == 0) }.sorted()
        }
    }

    @Test("random changes, partial syncs: the same table and memory as a full sync", arguments: [1, 2, 3, 4] as [UInt64])
    func randomChanges(seed: UInt64) throws {
        var random = Generator(state: seed)
        let inputs = try NFTablesFixtureTests.inputs("overall-rules", config: "overall-rules/config.yaml")
        let compiler = inputs.nftablesCompiler
        var state = ProxyState(family: .ipv4, nodeName: inputs.state.nodeName)
        for s in 0..<12 { Self.service(s, ports: 1 + s % 3, variant: s, into: &state, endpoints: s % 4) }
        var table = NFTablesState(family: "ip", table: NFTablesCompiler.table)
        var plan = compiler.compile(state, scope: .full, previous: nil, existingChains: [], existingSets: [])
        try table.apply(plan.transaction)
        for step in 0..<40 {
            var next = state
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let s = Int.random(in: 0..<14, using: &random)
                for name in next.services.keys where name.name == "svc\(s)" { next.services[name] = nil; next.endpoints[name] = nil }
                if Int.random(in: 0..<5, using: &random) > 0 {   // else the Service is removed
                    Self.service(s, ports: Int.random(in: 1...3, using: &random), variant: Int.random(in: 0..<30, using: &random), into: &next,
                                 endpoints: Int.random(in: 0...4, using: &random))
                }
            }
            plan = compiler.compile(next, scope: .partial(changedServices: next.changedServices(since: state)), previous: plan.memory,
                                    existingChains: plan.activeChains, existingSets: plan.activeAffinitySets)
            try table.apply(plan.transaction)
            try table.apply(compiler.deleteChains(plan.staleChains))
            state = next
            let fresh = compiler.compile(state, scope: .full, previous: nil, existingChains: [], existingSets: [])
            let expected = try NFTablesStagesTests.applied([fresh.transaction], to: NFTablesState(family: "ip", table: NFTablesCompiler.table))
            let (got, want) = (Set(NFTablesNormaliser.sorted(table.dump()).split(separator: "\n")), Set(NFTablesNormaliser.sorted(expected.dump()).split(separator: "\n")))
            #expect(got == want, "seed \(seed), step \(step): only after the partial sync: \(got.subtracting(want).sorted()); only after a full one: \(want.subtracting(got).sorted())")
            #expect(plan.memory.elements == fresh.memory.elements, "seed \(seed), step \(step)")
            #expect(plan.memory.sharedKeys == fresh.memory.sharedKeys, "seed \(seed), step \(step)")
            #expect(plan.activeChains == fresh.activeChains && plan.activeAffinitySets == fresh.activeAffinitySets, "seed \(seed), step \(step)")
            if got != want { break }
        }
    }
}
