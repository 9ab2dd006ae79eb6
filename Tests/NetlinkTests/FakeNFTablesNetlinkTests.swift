import Foundation
import KubeProxyCore
import KubeProxyModel
import KubeProxyTesting
import NFTablesRules
import Testing

/// The fake nf_tables kernel against the text model: every chain, rule, set and element the
/// compiler writes, encoded, sent and decoded back, builds the table its text builds.
@Suite("FakeNFTablesNetlink: batches decoded into NFTablesState")
struct FakeNFTablesNetlinkTests {
    @Test("upstream's fixtures: every step's transactions through netlink build the table their text builds")
    func fixtures() async throws {
        let cases = try NFTFixtures.cases()
        #expect(cases.count >= 2 && cases.allSatisfy { !$0.steps.isEmpty }, "fixture cases: \(cases.map(\.name))")
        var steps = 0
        for fixture in cases {
            let trip = NFTRoundTrip()
            var previous: (state: ProxyState, plan: NFTablesSyncPlan)?
            for step in fixture.steps {
                let inputs = try NFTFixtures.inputs(config: fixture.config, step: step)
                let (compiler, state, table) = (inputs.nftablesCompiler, inputs.state, trip.plain.table)
                let plan = previous.map {
                    compiler.compile(state, scope: .partial(changedServices: state.changedServices(since: $0.state)), previous: $0.plan.memory,
                                     existingChains: Set(table.chainNames), existingSets: Set(table.containerNames))
                } ?? compiler.compile(state, scope: .full, previous: nil, existingChains: [], existingSets: [])
                try await trip.run(plan)
                try await trip.run(compiler.deleteChains(plan.staleChains))
                trip.expectSame("\(fixture.name) \(step.lastPathComponent)")
                previous = (state, plan)
                steps += 1
            }
            let counts = trip.counts.withLock { $0 }
            #expect(counts.batches > 0 && counts.rules > 0 && counts.elements > 0, "\(fixture.name): \(counts)")
        }
        #expect(steps >= 4, "\(steps) steps")
    }

    /// Local traffic by CIDR, by interface prefix (with masqueradeAll and NodePorts on listed
    /// addresses) and by bridge (with a node IP inside a source range, so VIPs join the firewall's set).
    static func options(seed: UInt64) -> ProxierOptions {
        let node = IPAddress(sloppy: "198.18.2.7")!
        return switch seed % 3 {
        case 0: ProxierOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4))
        case 1: ProxierOptions(masqueradeAll: true, localDetector: .interfacePrefix("veth"),
                               nodePortAddresses: NodePortAddresses(["198.18.2.0/24"], family: .ipv4), hostAddresses: [node])
        default: ProxierOptions(localDetector: .bridge("cbr0"), nodePortAddresses: NodePortAddresses([], family: .ipv4), nodeIP: node)
        }
    }

    @Test("random clusters: a full sync and 20 partial ones through netlink build the table their text builds", arguments: 1...6 as ClosedRange<UInt64>)
    func randomClusters(seed: UInt64) async throws {
        let compiler = NFTablesCompiler(options: Self.options(seed: seed), family: .ipv4)
        let trip = NFTRoundTrip()
        var cluster = RandomCluster(seed: seed)
        var state = cluster.initial()
        var plan = compiler.compile(state, scope: .full, previous: nil, existingChains: [], existingSets: [])
        try await trip.run(plan)
        trip.expectSame("seed \(seed): full sync")
        for step in 0..<20 {
            var next = state
            let changes = cluster.change(&next)
            plan = compiler.compile(next, scope: .partial(changedServices: next.changedServices(since: state)), previous: plan.memory,
                                    existingChains: plan.activeChains, existingSets: plan.activeAffinitySets)
            try await trip.run(plan)
            try await trip.run(compiler.deleteChains(plan.staleChains))
            trip.expectSame("seed \(seed), step \(step) after \(changes)")
            state = next
        }
        let counts = trip.counts.withLock { $0 }
        #expect(counts.batches > 20 && counts.rules > 50 && counts.elements > 20, "\(counts)")
    }

    @Test("IPv6: addresses, prefixes, masks, interval sets, affinity, dnat, interfaces, keys; then removals")
    func ipv6() async throws {
        let trip = NFTRoundTrip(family: "ip6")
        var setup = NFTTransaction(family: "ip6", table: "kube-proxy")
        setup.add(.table(comment: nil))
        setup.add(.chain(name: "mark-for-masquerade", base: nil, comment: nil))
        setup.add(.map(name: "service-ips", type: "ipv6_addr . inet_proto . inet_service : verdict", comment: nil))
        setup.add(.set(name: "cluster-ips", type: "ipv6_addr", flags: [], timeoutSeconds: nil, comment: nil))
        try await trip.run(setup)
        var tx = NFTTransaction(family: "ip6", table: "kube-proxy")
        tx.add(.set(name: "affinity-x", type: "ipv6_addr", flags: ["dynamic", "timeout"], timeoutSeconds: 10800, comment: nil))
        for chain in ["ep", "svc", "fw"] { tx.add(.chain(name: chain, base: nil, comment: chain == "fw" ? "firewall" : nil)) }
        tx.add(.rule(chain: "ep", text: "ip6 saddr 2001:2::5 jump mark-for-masquerade"))
        tx.add(.rule(chain: "ep", text: "update @affinity-x { ip6 saddr }"))
        tx.add(.rule(chain: "ep", text: "meta l4proto udp dnat to [2001:2::5]:53"))
        tx.add(.rule(chain: "svc", text: "ip6 daddr 2001:3::10 ip6 saddr != 2001:2::/48 jump mark-for-masquerade"))
        tx.add(.rule(chain: "svc", text: "ip6 saddr @affinity-x goto ep"))
        tx.add(.rule(chain: "svc", text: "numgen random mod 1 vmap { 0 : goto ep }"))
        tx.add(.rule(chain: "fw", text: "ip6 saddr != { 2001:db8::7, 2001:2::/47 } drop"))
        tx.add(.rule(chain: "fw", text: "ip6 saddr != 2001:2::/47 drop"))
        tx.add(.rule(chain: "fw", text: "iifname != \"veth*\" oifname \"cbr0\" return comment \"a comment\""))
        tx.add(.element(container: "service-ips", key: "2001:3::10 . tcp . 80", value: "goto svc", comment: nil))
        tx.add(.element(container: "cluster-ips", key: "2001:3::10", value: nil, comment: "ns/svc:p"))
        try await trip.run(tx)
        trip.expectSame("ip6, added")
        var removal = NFTTransaction(family: "ip6", table: "kube-proxy")
        removal.delete(.element(container: "service-ips", key: "2001:3::10 . tcp . 80", value: nil, comment: nil))
        for chain in ["svc", "ep"] { removal.flush(.chain(name: chain, base: nil, comment: nil)) }
        for chain in ["svc", "ep"] { removal.delete(.chain(name: chain, base: nil, comment: nil)) }
        removal.delete(.set(name: "affinity-x", type: "ipv6_addr", flags: [], timeoutSeconds: nil, comment: nil))
        try await trip.run(removal)
        trip.expectSame("ip6, removed")
        #expect(trip.counts.withLock { ($0.batches, $0.text) } == (2, 1))
        #expect(!trip.kernel.nft.table.chainNames.contains("svc") && trip.kernel.nft.table.containers["affinity-x"] == nil)
    }
}
