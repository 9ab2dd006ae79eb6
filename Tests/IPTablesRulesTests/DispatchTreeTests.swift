import IPTablesRules
import KubeProxyCore
import KubeProxyModel
import KubeProxyTesting
import PacketTracer
import Testing

@Suite("The dispatch-tree layout of KUBE-SERVICES")
struct DispatchTreeTests {
    func options(_ dispatch: IPTablesDispatch) -> IPTablesCompilerOptions {
        var o = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4))
        o.dispatch = dispatch
        return o
    }

    func tracer(_ plan: IPTablesSyncPlan) throws -> IPTablesTracer {
        var dump = IPTablesDump(tables: [.init(name: "nat", chains: [.init(name: "PREROUTING")]), .init(name: "filter")])
        try dump.applyRestore(plan.payload)
        try dump.applyRestore("*nat\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n")
        return IPTablesTracer(dump: dump, localAddresses: [])
    }

    @Test("every Service reaches the same endpoints as with the flat layout, in far fewer rules")
    func sameVerdictsFewerRules() throws {
        let state = SyntheticCluster.state(services: 3000, endpoints: 2)
        let flat = IPTablesCompiler(options: options(.flat)).compile(state, scope: .full, existingNATChains: [])
        let tree = IPTablesCompiler(options: options(.defaultTree)).compile(state, scope: .full, existingNATChains: [])
        #expect(IPTablesNormaliser.consistencyProblems(tree.payload).isEmpty)
        let (f, t) = (try tracer(flat), try tracer(tree))
        let client = IPAddress(sloppy: "198.18.1.14")!
        var worstTree = 0, worstFlat = 0
        for i in stride(from: 0, to: 3000, by: 97) + [2999] {
            let packet = Packet(source: client, destination: SyntheticCluster.clusterIP(i), destinationPort: 80)
            let a = f.trace(packet), b = t.trace(packet)
            #expect(a.endpoints == b.endpoints && !a.endpoints.isEmpty, "service \(i)")
            worstFlat = max(worstFlat, a.rulesEvaluated)
            worstTree = max(worstTree, b.rulesEvaluated)
        }
        #expect(worstFlat > 3000)
        #expect(worstTree < 80, "tree walk evaluated \(worstTree) rules")
        // Traffic to no Service leaves after a handful of rules.
        let miss = t.trace(Packet(source: client, destination: IPAddress(sloppy: "198.18.3.3")!, destinationPort: 80))
        #expect(miss.verdict == "NONE" && miss.rulesEvaluated < 20)
        // A port that is not the Service's misses too.
        #expect(t.trace(Packet(source: client, destination: SyntheticCluster.clusterIP(5), destinationPort: 81)).verdict == "NONE")
    }

    @Test("a partial sync rewrites only the tree chains that changed, not all of KUBE-SERVICES' subtree")
    func partialTouchesOneLeaf() throws {
        let compiler = IPTablesCompiler(options: options(.defaultTree))
        let one = SyntheticCluster.state(services: 3000, endpoints: 2)
        let first = compiler.compile(one, scope: .full, existingNATChains: [])
        var two = one
        let extra = ServicePortName(namespace: "bench", name: "svc-extra", port: "http", protocol: .tcp)
        two.services[extra] = ServicePortInfo(name: extra, clusterIP: SyntheticCluster.clusterIP(1500).next, port: 8443)
        two.endpoints[extra] = [Endpoint(ip: .v4(0xC613_FFF0), port: 80)]
        let partial = compiler.compile(two, scope: .partial(changedServices: two.changedServices(since: one)),
                                       existingNATChains: first.activeNATChains, previous: first)
        let written = partial.payload.split(separator: "\n").filter { $0.hasPrefix(":KUBE-DST-") }
        #expect(written.count >= 1 && written.count <= 3, "rewrote \(written)")
        #expect(first.dispatchChains.count > 20)
        let full = compiler.compile(two, scope: .full, existingNATChains: first.activeNATChains)
        #expect(partial.natRuleTotal == full.natRuleTotal)
        // Applying the partial sync over the first gives the same tables as a full sync.
        var kernel = IPTablesDump(tables: [.init(name: "nat"), .init(name: "filter")])
        try kernel.applyRestore(first.payload)
        try kernel.applyRestore(partial.payload)
        var reference = IPTablesDump(tables: [.init(name: "nat"), .init(name: "filter")])
        try reference.applyRestore(full.payload)
        #expect(try IPTablesNormaliser.sorted(kernel.rendered()) == IPTablesNormaliser.sorted(reference.rendered()))
    }

    @Test("below the leaf size the tree is the flat layout")
    func small() throws {
        let state = SyntheticCluster.state(services: 10, endpoints: 1)
        let flat = IPTablesCompiler(options: options(.flat)).compile(state, scope: .full, existingNATChains: [])
        let tree = IPTablesCompiler(options: options(.defaultTree)).compile(state, scope: .full, existingNATChains: [])
        #expect(try IPTablesNormaliser.sorted(flat.payload) == IPTablesNormaliser.sorted(tree.payload))
    }
}

extension IPAddress {
    fileprivate var next: IPAddress {
        if case .v4(let a) = self { return .v4(a + 1) }
        return self
    }
}
