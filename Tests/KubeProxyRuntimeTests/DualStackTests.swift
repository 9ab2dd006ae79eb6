import IPTablesRules
import KubeProxyCore
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import Testing

/// Which families a node proxies, each family's inputs, and the proxier per family.
@Suite("Dual-stack: families, inputs, one proxier per family")
struct DualStackTests {
    static func manifests(_ nodeAddresses: [String], extra: String = "") throws -> Manifests {
        var manifests = Manifests()
        try manifests.decode("""
            apiVersion: v1
            kind: Node
            metadata: {name: n}
            status: {addresses: [\(nodeAddresses.map { "{type: InternalIP, address: \"\($0)\"}" }.joined(separator: ", "))]}
            \(extra)
            """, source: "test")
        return manifests
    }

    static func families(_ addresses: [String], clusterCIDR: String? = nil) throws -> [IPFamily] {
        var config = KubeProxyConfiguration()
        config.hostnameOverride = "n"
        config.clusterCIDR = clusterCIDR
        return NodeFacts(config: config, nodes: try manifests(addresses).nodes, hostname: "n").families
    }

    @Test("single-stack nodes proxy their family; a node IP of each family, or a clusterCIDR of both, makes both (primary first)")
    func families() throws {
        #expect(try Self.families(["198.18.2.1"]) == [.ipv4])
        #expect(try Self.families(["2001:2:2::1"]) == [.ipv6])
        #expect(try Self.families(["198.18.2.1", "2001:2:2::1"]) == [.ipv4, .ipv6])
        #expect(try Self.families(["2001:2:2::1", "198.18.2.1"]) == [.ipv6, .ipv4])
        #expect(try Self.families(["198.18.2.1"], clusterCIDR: "198.18.1.0/24,2001:2:1::/48") == [.ipv4, .ipv6])
        #expect(try Self.families(["198.18.2.1"], clusterCIDR: "2001:2:1::/48") == [.ipv4], "a clusterCIDR of the other family alone is not dual-stack")
    }

    @Test("each family's inputs hold that family's ClusterIPs and endpoints")
    func inputsPerFamily() throws {
        let manifests = try Self.manifests(["198.18.2.1", "2001:2:2::1"], extra: """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: both, namespace: ns}
            spec: {clusterIP: 198.18.10.50, clusterIPs: [198.18.10.50, "2001:2:10::50"], ipFamilies: [IPv4, IPv6], ports: [{port: 80}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: both-6, namespace: ns, labels: {kubernetes.io/service-name: both}}
            addressType: IPv6
            ports: [{name: "", port: 8080}]
            endpoints: [{addresses: ["2001:2:1:1::2"]}]
            """)
        var config = KubeProxyConfiguration()
        config.hostnameOverride = "n"
        let all = ProxierInputs.all(config: config, manifests: manifests, hostname: "n", hostAddresses: [], features: KernelFeatures())
        #expect(all.map(\.state.family) == [.ipv4, .ipv6])
        let (v4, v6) = (all[0].state, all[1].state)
        #expect(v4.services.values.map(\.clusterIP) == [IPAddress(sloppy: "198.18.10.50")!])
        #expect(v6.services.values.map(\.clusterIP) == [IPAddress(sloppy: "2001:2:10::50")!])
        #expect(v4.endpoints.values.allSatisfy { $0.isEmpty })
        #expect(v6.endpoints.values.flatMap { $0 }.map(\.ip) == [IPAddress(sloppy: "2001:2:1:1::2")!])
        #expect(all[1].options.nodeIP == IPAddress(sloppy: "2001:2:2::1"))
    }

    /// A proxier whose syncs all fail.
    actor FailingProxier: Proxier {
        func sync(_ state: ProxyState, changedServices: Set<String>?, steps: SyncSteps) async -> SyncOutcome { SyncOutcome(full: true, error: "refused", duration: .zero) }
        func checkIntegrity() async -> Bool { false }
        func forceFullSync() {}
        func report() -> ProxierReport { ProxierReport() }
    }

    @Test("each state goes to its family's proxier; one family failing leaves the other synced")
    func routing() async throws {
        let kernel = FakeIPTables()
        let options = IPTablesCompilerOptions(localDetector: .none, nodePortAddresses: NodePortAddresses([], family: .ipv4), features: KernelFeatures())
        let v4 = IPTablesProxier(iptables: kernel, options: options)
        let dual = DualStackProxier([(.ipv4, v4), (.ipv6, FailingProxier())])
        let state = SyntheticCluster.state(services: 3, endpoints: 2)
        #expect(await dual.sync(state).succeeded, "IPv4 goes to the IPv4 proxier")
        #expect(kernel.payloads.count == 1)
        #expect(await dual.sync(ProxyState(family: .ipv6, nodeName: "n")).succeeded == false, "IPv6 to the failing one")
        #expect(await dual.sync(state).succeeded, "which does not stop IPv4")
        #expect(await dual.checkIntegrity() == false, "intact only when every family is")
        let total = await dual.report().iptablesNATTotal, v4Total = await v4.report().iptablesNATTotal
        #expect(total != nil && total == v4Total, "counts add up over the families (IPv6 reports none)")
    }
}
