import IPTablesRules
import KubeProxyCore
import KubeProxyModel
import Testing

@Suite("Large-cluster mode and rule counts")
struct LargeClusterTests {
    func state(endpoints: Int) -> ProxyState {
        let name = ServicePortName(namespace: "ns1", name: "svc1", port: "p80", protocol: .tcp)
        var state = ProxyState(family: .ipv4, nodeName: "test-node")
        state.services[name] = ServicePortInfo(name: name, clusterIP: IPAddress(sloppy: "172.30.0.41")!, port: 80)
        state.endpoints[name] = (0..<endpoints).map { Endpoint(ip: .v4(0x0a00_0000 + UInt32($0)), port: 80) }.sorted()
        return state
    }

    let compiler = IPTablesCompiler(options: IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "10.0.0.0/8")!),
                                                                     nodePortAddresses: NodePortAddresses([], family: .ipv4)))

    @Test("above 1000 endpoints, endpoint rules lose their comments (upstream's large-cluster mode)")
    func largeCluster() {
        let big = compiler.compile(state(endpoints: 1001), scope: .full, existingNATChains: [])
        #expect(big.largeClusterMode)
        #expect(big.payload.contains("\n-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80\n"))
        let small = compiler.compile(state(endpoints: 1000), scope: .full, existingNATChains: [])
        #expect(!small.largeClusterMode)
        #expect(small.payload.contains("\n-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80\n"))
    }

    @Test("a partial compile that reuses the previous plan counts exactly what a full one does")
    func reuseCounts() {
        let one = state(endpoints: 3)
        let full = compiler.compile(one, scope: .full, existingNATChains: [])
        var two = one
        let other = ServicePortName(namespace: "ns2", name: "svc2", port: "p80", protocol: .tcp)
        two.services[other] = ServicePortInfo(name: other, clusterIP: IPAddress(sloppy: "172.30.0.42")!, port: 80)
        two.endpoints[other] = [Endpoint(ip: .v4(0x0b00_0001), port: 80)]
        let partial = compiler.compile(two, scope: .partial(changedServices: two.changedServices(since: one)),
                                       existingNATChains: full.activeNATChains, previous: full)
        let reference = compiler.compile(two, scope: .full, existingNATChains: full.activeNATChains)
        #expect(partial.natRuleTotal == reference.natRuleTotal)
        #expect(partial.activeNATChains == reference.activeNATChains)
        #expect(!partial.payload.contains("KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]"), "the unchanged service's chain is not rewritten")
        #expect(partial.payload.contains("-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 cluster IP\""), "but KUBE-SERVICES is")
    }
}
