import IPVSRules
import KubeProxyCore
import KubeProxyModel
import Testing

@Suite("IPVS planner and diff")
struct IPVSPlannerTests {
    static func ip(_ s: String) -> IPAddress { IPAddress(sloppy: s)! }
    static let node = ip("198.18.2.1")

    /// web: ClusterIP, 3 endpoints (1 local); lb: LoadBalancer with an external IP, eTP=Local, affinity.
    static func state() -> ProxyState {
        var state = ProxyState(family: .ipv4, nodeName: "lab-node")
        let web = ServicePortName(namespace: "demo", name: "web", port: "http", protocol: .tcp)
        state.services[web] = ServicePortInfo(name: web, clusterIP: ip("198.18.10.10"), port: 80)
        state.endpoints[web] = [Endpoint(ip: ip("198.18.1.2"), port: 8080, isLocal: true), Endpoint(ip: ip("198.18.1.6"), port: 8080),
                                Endpoint(ip: ip("198.18.1.10"), port: 8080)]
        let lb = ServicePortName(namespace: "demo", name: "lb", port: "http", protocol: .udp)
        state.services[lb] = ServicePortInfo(name: lb, clusterIP: ip("198.18.10.15"), port: 53, nodePort: 30053,
                                             externalIPs: [ip("198.18.20.1")], loadBalancerVIPs: [ip("198.18.30.1"), node],
                                             stickyMaxAgeSeconds: 600, externalPolicyLocal: true)
        state.endpoints[lb] = [Endpoint(ip: ip("198.18.1.2"), port: 5353, isLocal: true), Endpoint(ip: ip("198.18.1.6"), port: 5353)]
        return state
    }

    @Test("one virtual server per address, port and protocol; real servers by traffic policy; bound addresses")
    func desired() {
        let planner = IPVSPlanner(scheduler: "rr", nodePortAddresses: [Self.node], localAddresses: [Self.node])
        let d = planner.desired(Self.state())
        #expect(d.virtualServers.keys.map(\.description).sorted() == [
            "TCP 198.18.10.10:80", "UDP 198.18.10.15:53", "UDP 198.18.2.1:30053", "UDP 198.18.2.1:53", "UDP 198.18.20.1:53", "UDP 198.18.30.1:53"])
        let web = d.virtualServers[.init(address: Self.ip("198.18.10.10"), port: 80, protocol: .tcp)]!
        #expect(web.realServers.map(\.endpoint) == ["198.18.1.2:8080", "198.18.1.6:8080", "198.18.1.10:8080"])
        #expect(web.timeout == 0 && web.flags == 0)
        // The ClusterIP of an eTP=Local Service still reaches every endpoint; external addresses only the local one.
        let lbCluster = d.virtualServers[.init(address: Self.ip("198.18.10.15"), port: 53, protocol: .udp)]!
        #expect(lbCluster.realServers.count == 2)
        for external in ["198.18.20.1", "198.18.30.1"] {
            let vs = d.virtualServers[.init(address: Self.ip(external), port: 53, protocol: .udp)]!
            #expect(vs.realServers.map(\.endpoint) == ["198.18.1.2:5353"])
            #expect(vs.flags == VirtualServer.persistentFlag && vs.timeout == 600)
        }
        #expect(d.virtualServers[.init(address: Self.node, port: 30053, protocol: .udp)]!.realServers.count == 1)
        // ClusterIPs and external/LB IPs are bound, except one already on another interface.
        #expect(d.boundAddresses == [Self.ip("198.18.10.10"), Self.ip("198.18.10.15"), Self.ip("198.18.20.1"), Self.ip("198.18.30.1")])
        #expect(IPVSPlanner(scheduler: "mh", nodePortAddresses: []).desired(Self.state()).virtualServers.values.allSatisfy { $0.flags & VirtualServer.mhPortFlag != 0 })
    }

    @Test("diff: adds, scheduler change, weight restored after a restart, stale service deleted, nothing when equal")
    func diff() {
        let desired = IPVSPlanner(nodePortAddresses: []).desired(Self.state()).virtualServers
        #expect(IPVSDiff.operations(desired: desired, current: Array(desired.values)).isEmpty)
        let webKey = VirtualServer.Key(address: Self.ip("198.18.10.10"), port: 80, protocol: .tcp)
        var current = Array(desired.values)
        let i = current.firstIndex { $0.key == webKey }!
        current[i].scheduler = "lc"
        current[i].flags |= VirtualServer.hashedFlag   // as the kernel lists it: ignored
        current[i].realServers[0].weight = 0          // left drained by an earlier run
        current[i].realServers.remove(at: 2)
        let stale = VirtualServer(key: .init(address: Self.ip("198.18.10.99"), port: 80, protocol: .tcp), scheduler: "rr")
        current.append(stale)
        let ops = IPVSDiff.operations(desired: desired, current: current)
        #expect(ops.map(\.description) == [
            "update service TCP 198.18.10.10:80 rr",
            "set destination TCP 198.18.10.10:80 -> 198.18.1.2:8080 weight 1",
            "add destination TCP 198.18.10.10:80 -> 198.18.1.10:8080 weight 1",
            "delete service TCP 198.18.10.99:80",
        ])
        #expect(IPVSDiff.operations(desired: desired, current: current, owned: { $0 != stale.key }).count == 3)
    }

    @Test("graceful termination: TCP with connections drains at weight 0, then goes once idle; UDP goes at once")
    func graceful() {
        let desired = IPVSPlanner(nodePortAddresses: []).desired(Self.state()).virtualServers
        let webKey = VirtualServer.Key(address: Self.ip("198.18.10.10"), port: 80, protocol: .tcp)
        let dnsKey = VirtualServer.Key(address: Self.ip("198.18.10.15"), port: 53, protocol: .udp)
        var current = Array(desired.values)
        let w = current.firstIndex { $0.key == webKey }!, u = current.firstIndex { $0.key == dnsKey }!
        current[w].realServers.append(RealServer(address: Self.ip("198.18.1.14"), port: 8080, activeConnections: 1))
        current[w].realServers.append(RealServer(address: Self.ip("198.18.1.18"), port: 8080))
        current[u].realServers.append(RealServer(address: Self.ip("198.18.1.14"), port: 5353, inactiveConnections: 4))
        #expect(IPVSDiff.operations(desired: desired, current: current).map(\.description) == [
            "set destination TCP 198.18.10.10:80 -> 198.18.1.14:8080 weight 0",
            "delete destination TCP 198.18.10.10:80 -> 198.18.1.18:8080",
            "delete destination UDP 198.18.10.15:53 -> 198.18.1.14:5353",
        ])
        // Next sync: still connected and already at 0 -> nothing; connections gone -> deleted.
        current[w].realServers[3].weight = 0
        current[w].realServers.remove(at: 4)
        current[u].realServers.removeLast()
        #expect(IPVSDiff.operations(desired: desired, current: current).isEmpty)
        current[w].realServers[3].activeConnections = 0
        #expect(IPVSDiff.operations(desired: desired, current: current).map(\.description) == [
            "delete destination TCP 198.18.10.10:80 -> 198.18.1.14:8080"])
    }

    @Test("applying operations to a listed table gives what the kernel then holds (partial syncs start there)")
    func applying() {
        let desired = IPVSPlanner(nodePortAddresses: []).desired(Self.state()).virtualServers
        let webKey = VirtualServer.Key(address: Self.ip("198.18.10.10"), port: 80, protocol: .tcp)
        var current = desired
        current[webKey]!.scheduler = "lc"
        current[webKey]!.realServers.append(RealServer(address: Self.ip("198.18.1.14"), port: 8080, activeConnections: 2))
        current[webKey]!.realServers.remove(at: 0)
        let stale = VirtualServer(key: .init(address: Self.ip("198.18.10.99"), port: 80, protocol: .tcp), scheduler: "rr")
        current[stale.key] = stale
        let ops = IPVSDiff.operations(desired: desired, current: Array(current.values))
        let after = IPVSDiff.applying(ops, to: current)
        // What is left to do from there: nothing but the drained real server, already at weight 0.
        #expect(IPVSDiff.operations(desired: desired, current: Array(after.values)).isEmpty)
        #expect(after[webKey]!.realServers.first { $0.endpoint == "198.18.1.14:8080" }?.weight == 0)
        #expect(after[webKey]!.scheduler == "rr" && after[stale.key] == nil)
        #expect(after.keys.sorted() == desired.keys.sorted())
    }
}
