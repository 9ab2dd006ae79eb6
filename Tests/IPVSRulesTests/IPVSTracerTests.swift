import IPTablesRules
import IPVSRules
import KubeProxyCore
import KubeProxyModel
import PacketTracer
import Testing

/// The IPVS-mode tracer: iptables rules with ipset lookups, then one virtual-server lookup.
@Suite("IPVS tracer")
struct IPVSTracerTests {
    static func ip(_ s: String) -> IPAddress { IPAddress(sloppy: s)! }
    static let node = ip("198.18.2.1")
    static let options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4),
                                                 hostAddresses: [node], nodeIP: node)

    static func tracer(_ state: ProxyState) throws -> IPVSTracer {
        let desired = IPVSPlanner(nodePortAddresses: [node], localAddresses: [node], nodeIP: node).desired(state)
        return try IPVSTracer(desired: desired, payload: IPVSIPTablesRules.payload(desired, options: options.common, randomFully: options.features.randomFully, family: .ipv4),
                              family: .ipv4, localAddresses: [node])
    }

    static func packet(_ src: String, _ dst: String, _ port: Int) -> Packet { Packet(source: ip(src), destination: ip(dst), destinationPort: port) }

    @Test("verdicts per Service kind, with masquerade as the ipset rules decide")
    func kinds() throws {
        let t = try Self.tracer(IPVSCompanionsTests.state())
        // ClusterIP from a pod: DNAT to both endpoints, half each, no masquerade (the pod CIDR is local).
        let web = t.trace(Self.packet("198.18.1.14", "198.18.10.10", 80))
        #expect(web.verdict == "DNAT" && web.candidates.map(\.endpoint) == ["198.18.1.2:8080", "198.18.1.6:8080"] && !web.masquerade)
        #expect(web.candidates.allSatisfy { $0.probability == 0.5 })
        // The same from outside the pod CIDR: masqueraded.
        #expect(t.trace(Self.packet("198.18.2.2", "198.18.10.10", 80)).masquerade)
        // NodePort with eTP=Local from outside: RETURN before KUBE-MARK-MASQ keeps the client address.
        let np = t.trace(Self.packet("198.18.2.2", "198.18.2.1", 30080))
        #expect(np.verdict == "DNAT" && !np.masquerade && np.endpoints == ["198.18.1.6:8080"])
        // A LoadBalancer whose source range leaves this client out: dropped in filter INPUT, before IPVS.
        let fw = t.trace(Self.packet("198.18.2.2", "198.18.30.2", 443))
        #expect(fw.verdict == "DROP" && fw.steps.contains { $0.chain == "KUBE-SOURCE-RANGES-FIREWALL" })
        #expect(!fw.steps.contains { $0.table == "ipvs" })
        // A source inside the range passes.
        #expect(t.trace(Self.packet("198.18.2.2", "198.18.30.1", 53)).verdict != "DROP")
        // No real servers: refused.
        #expect(t.trace(Self.packet("198.18.1.14", "198.18.10.13", 443)).verdict == "REJECT")
        // A port nothing serves on a kube-ipvs0 address: rejected by KUBE-IPVS-FILTER (a first packet is NEW).
        let stray = t.trace(Self.packet("198.18.1.14", "198.18.10.10", 81))
        #expect(stray.verdict == "REJECT" && stray.steps.contains { $0.chain == "KUBE-IPVS-FILTER" && $0.matched == true && $0.note == "REJECT" })
        // Not a Service address at all.
        #expect(t.trace(Self.packet("198.18.1.14", "198.18.9.9", 80)).verdict == "NONE")
    }

    @Test("persistence and scheduler are explained; drained real servers are not candidates")
    func scheduling() throws {
        var state = IPVSCompanionsTests.state()
        let web = state.services.keys.first { $0.name == "web" }!
        state.services[web]!.stickyMaxAgeSeconds = 600
        let desired = IPVSPlanner(scheduler: "sh", nodePortAddresses: [Self.node], localAddresses: [Self.node], nodeIP: Self.node).desired(state)
        var servers = desired.virtualServers
        let key = VirtualServer.Key(address: Self.ip("198.18.10.10"), port: 80, protocol: .tcp)
        servers[key]!.realServers[0].weight = 0
        let t = try IPVSTracer(desired: desired, payload: IPVSIPTablesRules.payload(desired, options: Self.options.common, randomFully: Self.options.features.randomFully, family: .ipv4), family: .ipv4, localAddresses: [Self.node])
        let drained = IPVSTracer(dump: t.rules.dump, ipsets: t.rules.ipsets, virtualServers: servers, localAddresses: [Self.node])
        let r = drained.trace(Self.packet("198.18.1.14", "198.18.10.10", 80))
        #expect(r.endpoints == ["198.18.1.6:8080"] && r.candidates.first?.probability == 1)
        let lookup = r.steps.first { $0.table == "ipvs" }?.note ?? ""
        #expect(lookup.contains("sh persistent 600s") && lookup.contains("hash of the source address") && lookup.contains("keeps its real server for 600s"), "\(lookup)")
    }

    @Test("rules evaluated do not grow with the number of Services (one hash lookup), unlike iptables mode")
    func constantCost() throws {
        func cost(_ services: Int) throws -> Int {
            let state = SyntheticCluster.state(services: services, endpoints: 2)
            let last = SyntheticCluster.clusterIP(services - 1)
            let r = try Self.tracer(state).trace(Packet(source: Self.ip("198.18.1.14"), destination: last, destinationPort: 80))
            #expect(r.verdict == "DNAT" && r.candidates.count == 2)
            return r.rulesEvaluated
        }
        let small = try cost(10), large = try cost(2000)
        #expect(small == large, "IPVS mode: \(small) rules for 10 Services, \(large) for 2000")
        #expect(small < 30)
    }
}
