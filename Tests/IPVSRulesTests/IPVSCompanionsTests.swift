import IPTablesRules
import IPVSRules
import KubeProxyCore
import KubeProxyModel
import Testing

/// The ipsets, iptables rules and ipset scripts around IPVS (reference notes A.5, A.6).
@Suite("IPVS companions: ipsets, iptables rules, restore scripts")
struct IPVSCompanionsTests {
    static func ip(_ s: String) -> IPAddress { IPAddress(sloppy: s)! }
    static let node = ip("198.18.2.1")

    /// web (TCP ClusterIP, a local endpoint), np (TCP NodePort eTP=Local + health check), lb (UDP
    /// LoadBalancer with an external IP and source ranges admitting the node), fw (TCP LoadBalancer
    /// whose source range leaves the node out), sc (SCTP NodePort).
    static func state() -> ProxyState {
        var state = ProxyState(family: .ipv4, nodeName: "lab-node")
        func add(_ name: String, _ proto: L4Protocol, _ info: (ServicePortName) -> ServicePortInfo, _ endpoints: [Endpoint]) {
            let n = ServicePortName(namespace: "demo", name: name, port: "p", protocol: proto)
            state.services[n] = info(n)
            state.endpoints[n] = endpoints
        }
        add("web", .tcp, { ServicePortInfo(name: $0, clusterIP: ip("198.18.10.10"), port: 80) },
            [Endpoint(ip: ip("198.18.1.2"), port: 8080, isLocal: true), Endpoint(ip: ip("198.18.1.6"), port: 8080)])
        add("np", .tcp, { ServicePortInfo(name: $0, clusterIP: ip("198.18.10.11"), port: 80, nodePort: 30080, externalPolicyLocal: true, healthCheckNodePort: 30180) },
            [Endpoint(ip: ip("198.18.1.6"), port: 8080)])
        add("lb", .udp, { ServicePortInfo(name: $0, clusterIP: ip("198.18.10.12"), port: 53, externalIPs: [ip("198.18.20.1")],
                                          loadBalancerVIPs: [ip("198.18.30.1")], loadBalancerSourceRanges: [CIDR(sloppy: "198.18.2.0/24")!]) },
            [Endpoint(ip: ip("198.18.1.2"), port: 5353, isLocal: true)])
        add("fw", .tcp, { ServicePortInfo(name: $0, clusterIP: ip("198.18.10.13"), port: 443, loadBalancerVIPs: [ip("198.18.30.2")],
                                          loadBalancerSourceRanges: [CIDR(sloppy: "198.18.99.0/24")!]) }, [])
        add("sc", .sctp, { ServicePortInfo(name: $0, clusterIP: ip("198.18.10.14"), port: 9, nodePort: 30009) }, [])
        return state
    }

    static var planner: IPVSPlanner { IPVSPlanner(nodePortAddresses: [node], localAddresses: [node], nodeIP: node) }

    @Test("the 17 sets: upstream names, types and comments; IPv6 names are KUBE-6- and at most 31 characters")
    func sets() {
        #expect(IPVSIPSet.all.count == 17 && Set(IPVSIPSet.all.map(\.baseName)).count == 17)
        #expect(!IPVSIPSet.all.map(\.baseName).contains("KUBE-NODE-PORT-SCTP"))
        #expect(IPVSIPSet.loadBalancerSourceCIDR.name(for: .ipv6) == "KUBE-6-LOAD-BALANCER-SOURCE-CIDR".prefix(31).description)
        #expect(IPVSIPSet.all.allSatisfy { $0.name(for: .ipv6).count <= 31 && $0.name(for: .ipv6).hasPrefix("KUBE-6-") })
        #expect(IPVSIPSet.nodePortTCP.createOptions(for: .ipv4) == "range 0-65535")
        #expect(IPVSIPSet.clusterIP.createOptions(for: .ipv6) == "family inet6 hashsize 1024 maxelem 65536")
    }

    @Test("set entries per Service kind, as upstream fills them")
    func entries() {
        let d = Self.planner.desired(Self.state())
        func e(_ set: IPVSIPSet) -> [String] { (d.setEntries[set] ?? []).sorted() }
        #expect(e(.loopBack) == ["198.18.1.2,tcp:8080,198.18.1.2", "198.18.1.2,udp:5353,198.18.1.2"])
        #expect(e(.clusterIP) == ["198.18.10.10,tcp:80", "198.18.10.11,tcp:80", "198.18.10.12,udp:53", "198.18.10.13,tcp:443", "198.18.10.14,sctp:9"])
        #expect(e(.externalIP) == ["198.18.20.1,udp:53"] && e(.externalIPLocal).isEmpty)
        #expect(e(.loadBalancer) == ["198.18.30.1,udp:53", "198.18.30.2,tcp:443"] && e(.loadBalancerLocal).isEmpty)
        #expect(e(.loadBalancerFW) == ["198.18.30.1,udp:53", "198.18.30.2,tcp:443"])
        #expect(e(.loadBalancerSourceCIDR) == ["198.18.30.1,udp:53,198.18.2.0/24", "198.18.30.2,tcp:443,198.18.99.0/24"])
        // The node is inside lb's range (allowed to itself), outside fw's (dropped on the way out).
        #expect(e(.loadBalancerSourceIP) == ["198.18.30.1,udp:53,198.18.30.1"])
        #expect(d.outFilterDrops == [.init(address: Self.ip("198.18.30.2"), port: 443, protocol: .tcp)])
        #expect(e(.nodePortTCP) == ["30080"] && e(.nodePortLocalTCP) == ["30080"] && e(.nodePortUDP).isEmpty)
        #expect(e(.nodePortSCTP) == ["198.18.2.1,sctp:30009"])
        #expect(e(.healthCheckNodePort) == ["30180"])
        #expect(e(.ipvsIPs) == ["198.18.10.10", "198.18.10.11", "198.18.10.12", "198.18.10.13", "198.18.10.14", "198.18.20.1", "198.18.30.1", "198.18.30.2"])
        // eTP=Local with no endpoint on this node: the NodePort falls back to every ready endpoint (upstream PR 97081).
        let np = d.virtualServers[.init(address: Self.node, port: 30080, protocol: .tcp)]!
        #expect(np.realServers.map(\.endpoint) == ["198.18.1.6:8080"])
    }

    @Test("iptables payload: chains, set-matching rules only for non-empty sets, masquerade forms, mark 0x004000")
    func payload() {
        let d = Self.planner.desired(Self.state())
        let options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4))
        let text = IPVSIPTablesRules.payload(d, options: options.common, randomFully: options.features.randomFully, family: .ipv4)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "*nat" && lines.filter { $0 == "COMMIT" }.count == 2)
        #expect(lines.contains(":KUBE-IPVS-OUT-FILTER - [0:0]") && lines.contains(":KUBE-LOAD-BALANCER - [0:0]"))
        #expect(lines[6] == "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN")
        #expect(lines.contains(#"-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE"#))
        #expect(lines.contains(#"-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port with externalTrafficPolicy=local" -m set --match-set KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN"#))
        #expect(lines.contains(#"-A KUBE-NODE-PORT -p sctp -m comment --comment "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" -m set --match-set KUBE-NODE-PORT-SCTP-HASH dst,dst -j KUBE-MARK-MASQ"#))
        #expect(!text.contains("KUBE-NODE-PORT-UDP"), "empty set: no rule")
        #expect(lines.contains(#"-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 198.18.1.0/24 -j KUBE-MARK-MASQ"#))
        #expect(lines.contains("-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT"))
        #expect(lines.contains("-A KUBE-POSTROUTING -m mark ! --mark 0x004000/0x004000 -j RETURN"))
        #expect(lines.contains("-A KUBE-MARK-MASQ -j MARK --or-mark 0x004000"))
        #expect(lines.contains("-A KUBE-IPVS-OUT-FILTER -s 198.18.30.2 -m ipvs --vaddr 198.18.30.2 --vproto tcp --vport 443 -j DROP"))
        #expect(lines.last == "COMMIT" && lines[lines.count - 2] == "-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT")
        // The filter rules from set matches come before the fixed ones, as upstream's buffer order.
        let fw = lines.firstIndex { $0.hasPrefix("-A KUBE-PROXY-FIREWALL") }!, fwd = lines.firstIndex { $0.hasPrefix("-A KUBE-FORWARD") }!
        #expect(fw < fwd)
        // Without a detector: src,dst; with masqueradeAll: plain dst,dst.
        let none = IPVSIPTablesRules.payload(d, options: ProxierOptions(nodePortAddresses: NodePortAddresses([], family: .ipv4)), family: .ipv4)
        #expect(none.contains("--match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ"))
        let all = IPVSIPTablesRules.payload(d, options: ProxierOptions(masqueradeAll: true, nodePortAddresses: NodePortAddresses([], family: .ipv4)), family: .ipv4)
        #expect(all.contains("--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ"))
        // nodePortAddresses narrowed: one -d jump per matching host address.
        var narrowed = IPTablesCompilerOptions(nodePortAddresses: NodePortAddresses(["198.18.2.0/24"], family: .ipv4))
        narrowed.hostAddresses = [Self.node, Self.ip("198.18.1.1")]
        #expect(IPVSIPTablesRules.payload(d, options: narrowed.common, family: .ipv4).contains("-A KUBE-SERVICES -d 198.18.2.1 -j KUBE-NODE-PORT\n"))
    }

    @Test("ipset scripts: a full sync swaps freshly filled sets in; a later one adds and deletes only the difference")
    func restoreScripts() {
        let d = Self.planner.desired(Self.state())
        let full = IPSetRestore.script(desired: d.setEntries, previous: nil, family: .ipv4).split(separator: "\n").map(String.init)
        #expect(full.filter { $0.hasPrefix("swap ") }.count == 17)
        let i = full.firstIndex(of: "create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536")!
        #expect(Array(full[(i + 1)...(i + 3)]) == ["create KUBE-TMP-1 hash:ip,port family inet hashsize 1024 maxelem 65536", "flush KUBE-TMP-1",
                                                    "add KUBE-TMP-1 198.18.10.10,tcp:80"])
        #expect(full.contains("swap KUBE-TMP-1 KUBE-CLUSTER-IP") && full.contains("destroy KUBE-TMP-1"))
        var next = d.setEntries
        next[.clusterIP]!.remove("198.18.10.14,sctp:9")
        next[.clusterIP]!.insert("198.18.10.15,tcp:80")
        let partial = IPSetRestore.script(desired: next, previous: d.setEntries, family: .ipv4).split(separator: "\n").map(String.init)
        #expect(partial.filter { !$0.hasPrefix("create ") } == ["del KUBE-CLUSTER-IP 198.18.10.14,sctp:9", "add KUBE-CLUSTER-IP 198.18.10.15,tcp:80"])
        #expect(IPSetRestore.script(desired: d.setEntries, previous: d.setEntries, family: .ipv4).split(separator: "\n").allSatisfy { $0.hasPrefix("create ") })
    }
}
