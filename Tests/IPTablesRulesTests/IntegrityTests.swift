import IPTablesRules
import KubeProxyCore
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import NFTablesRules
import Testing

/// The cheap integrity check finds tampering the canary misses, on the fakes: each kind of
/// damage makes the check fail and the next sync full, and that sync repairs it.
@Suite("Integrity check: tampering beyond the canary", .serialized)
struct IntegrityTests {
    static let options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.19.0.0/16")!),
                                                 nodePortAddresses: NodePortAddresses([], family: .ipv4), features: KernelFeatures())
    static let state = SyntheticCluster.state(services: 6, endpoints: 3)

    @Test("iptables: a flushed nat table, a removed jump, a flushed or deleted Service or endpoint chain", arguments: [
        "flush nat", "remove jump", "flush svc", "delete sep", "flush filter chain",
    ])
    func iptables(damage: String) async throws {
        let kernel = FakeIPTables()
        let proxier = IPTablesProxier(iptables: kernel, options: Self.options)
        #expect(await proxier.sync(Self.state).succeeded)
        #expect(await proxier.checkIntegrity(), "untouched: the check passes")
        let before = kernel.dump
        let nat = try #require(before.table("nat")), filter = try #require(before.table("filter"))
        switch damage {
        case "flush nat":
            for chain in nat.chains where IPTablesCleanup.owns(chain.name) && chain.name != "KUBE-PROXY-CANARY" {
                try await kernel.restore("*nat\n:\(chain.name) - [0:0]\nCOMMIT\n")
            }
        case "remove jump":
            try await kernel.deleteRule(table: "nat", chain: "PREROUTING", args: IPTablesJumpRule.all.first { $0.from == "PREROUTING" }!.args)
        case "flush svc":
            let svc = try #require(nat.chains.first { $0.name.hasPrefix("KUBE-SVC-") })
            try await kernel.restore("*nat\n:\(svc.name) - [0:0]\nCOMMIT\n")
        case "delete sep":
            let sep = try #require(nat.chains.first { $0.name.hasPrefix("KUBE-SEP-") })
            let referring = nat.chains.filter { $0.rules.contains { $0.target == sep.name } }
            try await kernel.restore("*nat\n" + referring.map { ":\($0.name) - [0:0]\n" + $0.rules.filter { $0.target != sep.name }.map { $0.line + "\n" }.joined() }.joined()
                                     + ":\(sep.name) - [0:0]\n-X \(sep.name)\nCOMMIT\n")
        default:
            let chain = try #require(filter.chains.first { IPTablesCleanup.owns($0.name) && !$0.rules.isEmpty })
            try await kernel.restore("*filter\n:\(chain.name) - [0:0]\nCOMMIT\n")
        }
        #expect(await proxier.checkIntegrity() == false, "\(damage) is found")
        #expect(await proxier.sync(Self.state).full, "and the next sync is full")
        func chains(_ dump: IPTablesDump) -> [String: [String]] {
            Dictionary(uniqueKeysWithValues: dump.tables.flatMap { t in t.chains.map { ("\(t.name) \($0.name)", $0.rules.map(\.line)) } })
        }
        #expect(chains(kernel.dump) == chains(before), "which repairs it")
        #expect(await proxier.checkIntegrity())
    }

    @Test("iptables: kubelet's KUBE-FIREWALL counts only when the payload writes it (no localhost NodePorts: it is not ours)")
    func kubeletFirewall() async throws {
        var options = Self.options
        options.localhostNodePorts = false
        let kernel = FakeIPTables()
        let proxier = IPTablesProxier(iptables: kernel, options: options)
        try await kernel.ensureChain(table: "filter", chain: "KUBE-FIREWALL")
        try kernel.appendRule(table: "filter", line: "-A KUBE-FIREWALL -m comment --comment \"block incoming localnet connections\" -j DROP")
        #expect(await proxier.sync(Self.state).succeeded)
        #expect(await proxier.checkIntegrity(), "kubelet's rule is not counted as ours")
    }

    @Test("iptables: stale Service chains not yet scanned for are not the plan's")
    func staleChainsIgnored() async throws {
        let kernel = FakeIPTables()
        let proxier = IPTablesProxier(iptables: kernel, options: Self.options)
        #expect(await proxier.sync(Self.state).succeeded)
        try await kernel.restore("*nat\n:KUBE-SVC-STALESTALESTALE - [0:0]\n-A KUBE-SVC-STALESTALESTALE -j RETURN\nCOMMIT\n")
        #expect(await proxier.checkIntegrity())
    }

    @Test("iptables: partial syncs keep the check exact")
    func iptablesAfterPartials() async throws {
        let proxier = IPTablesProxier(iptables: FakeIPTables(), options: Self.options)
        var state = Self.state
        #expect(await proxier.sync(state).succeeded)
        for index in 0..<4 {
            state = SyntheticCluster.changingOneEndpoint(state, index: index)
            let outcome = await proxier.sync(state)
            #expect(outcome.succeeded && !outcome.full)
            #expect(await proxier.checkIntegrity(), "after partial sync \(index)")
        }
    }

    @Test("nftables: a flushed table, an emptied verdict map, a flushed Service chain", arguments: ["flush table", "flush map", "flush chain"])
    func nftables(damage: String) async throws {
        let nft = FakeNFTables()
        let proxier = NFTablesProxier(nft: nft, options: Self.options, family: .ipv4)
        var state = Self.state
        #expect(await proxier.sync(state).succeeded)
        state = SyntheticCluster.changingOneEndpoint(state, index: 1)
        #expect(await proxier.sync(state).succeeded)
        #expect(await proxier.checkIntegrity(), "untouched: the check passes")
        let before = nft.table
        var tx = NFTTransaction(family: "ip", table: NFTablesCompiler.table)
        switch damage {
        case "flush table": nft.flushChains()
        case "flush map":
            for key in before.containers["service-ips"]!.elements.keys { tx.delete(.element(container: "service-ips", key: key, value: nil, comment: nil)) }
            try await nft.run(tx)
        default:
            tx.flush(.chain(name: try #require(before.chainNames.first { $0.hasPrefix("service-") }), base: nil, comment: nil))
            try await nft.run(tx)
        }
        #expect(await proxier.checkIntegrity() == false, "\(damage) is found")
        #expect(await proxier.sync(state).full)
        #expect(await proxier.checkIntegrity(), "repaired")
    }

    @Test("nftables: nft's listing is counted as the table holds it")
    func listingSummary() {
        let listing = """
        table ip kube-proxy {
        \tcomment "rules for kube-proxy"
        \tset cluster-ips {
        \t\ttype ipv4_addr
        \t\tcomment "Active ClusterIPs"
        \t\telements = { 172.30.0.41, 172.30.0.42,
        \t\t\t     172.30.0.43 }
        \t}
        \tmap no-endpoint-services {
        \t\ttype ipv4_addr . inet_proto . inet_service : verdict
        \t}
        \tchain nat-prerouting {
        \t\ttype nat hook prerouting priority dstnat; policy accept;
        \t\tjump services
        \t}
        \tchain service-ULMVA6XW-ns1/svc1/tcp/p80 {
        \t\tip daddr 172.30.0.41 tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
        \t\tnumgen random mod 1 vmap { 0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 }
        \t}
        \tchain masquerading {
        \t}
        }
        """
        let summary = NFTTableSummary.parse(listing: listing)
        #expect(summary.elements == ["cluster-ips": 3, "no-endpoint-services": 0])
        #expect(summary.rules == ["nat-prerouting": 1, "service-ULMVA6XW-ns1/svc1/tcp/p80": 2, "masquerading": 0])
    }
}
