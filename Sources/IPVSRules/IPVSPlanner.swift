import KubeProxyCore
import KubeProxyModel

/// ProxyState -> everything one IPVS-mode sync wants: virtual servers, addresses on `kube-ipvs0`,
/// and the ipsets' entries.
///
/// One virtual server per (address, port, protocol): the ClusterIP, each external IP, each
/// LoadBalancer IP, and the NodePort on every node address. Real servers are the endpoints the
/// traffic policy selects (``EndpointSelection/ipvsInternalEndpoints``: cluster endpoints, or with a
/// Local policy the node's own, and the cluster's when the node has none, as upstream since
/// PR 97081), weight 1. ClientIP affinity is persistence
/// with the Service's timeout.
public struct IPVSPlanner: Sendable {
    public var scheduler: String
    /// Addresses NodePorts listen on (this family's, without loopback and kube-ipvs0's).
    public var nodePortAddresses: [IPAddress]
    /// Addresses already on other interfaces: external and LB IPs among them are not bound again.
    public var localAddresses: Set<IPAddress>
    /// The node's IP: a LoadBalancer source range containing it lets the node itself through.
    public var nodeIP: IPAddress?

    public init(scheduler: String = "rr", nodePortAddresses: [IPAddress], localAddresses: Set<IPAddress> = [], nodeIP: IPAddress? = nil) {
        self.scheduler = scheduler.isEmpty ? "rr" : scheduler
        self.nodePortAddresses = nodePortAddresses
        self.localAddresses = localAddresses
        self.nodeIP = nodeIP
    }

    /// What one sync wants.
    public struct Desired: Hashable, Sendable {
        public var virtualServers: [VirtualServer.Key: VirtualServer] = [:]
        /// Addresses to bind on kube-ipvs0 (ClusterIPs always; external/LB IPs unless already local).
        public var boundAddresses: Set<IPAddress> = []
        /// Each ipset's entries, in `ipset add` syntax; every one of the 17 sets is present.
        public var setEntries: [IPVSIPSet: Set<String>] = Dictionary(uniqueKeysWithValues: IPVSIPSet.all.map { ($0, []) })
        /// LoadBalancer virtual servers with source ranges that do not admit the node: the node's own
        /// traffic to them is dropped (`KUBE-IPVS-OUT-FILTER`).
        public var outFilterDrops: Set<VirtualServer.Key> = []

        mutating func insert(_ entry: String, into set: IPVSIPSet) { setEntries[set, default: []].insert(entry) }
    }

    public func desired(_ state: ProxyState) -> Desired {
        var result = Desired()
        let flags: UInt32 = scheduler == "mh" ? VirtualServer.mhPortFlag : 0
        for name in state.sortedServicePortNames {
            guard let svc = state.services[name] else { continue }
            let selection = EndpointSelection(service: svc, state: state)
            let persistence = svc.stickyMaxAgeSeconds
            func server(_ address: IPAddress, _ port: Int, _ endpoints: [Endpoint]) -> VirtualServer {
                VirtualServer(key: .init(address: address, port: port, protocol: svc.protocol), scheduler: scheduler,
                              flags: flags | (persistence == nil ? 0 : VirtualServer.persistentFlag), timeout: persistence ?? 0,
                              realServers: endpoints.map { RealServer(address: $0.ip, port: $0.port) }.sorted())
            }
            let internalEndpoints = selection.ipvsInternalEndpoints, externalEndpoints = selection.ipvsExternalEndpoints
            let cluster = server(svc.clusterIP, svc.port, internalEndpoints)
            result.virtualServers[cluster.key] = cluster
            result.boundAddresses.insert(svc.clusterIP)
            for ip in svc.externalIPs + svc.loadBalancerVIPs {
                let vs = server(ip, svc.port, externalEndpoints)
                result.virtualServers[vs.key] = vs
                if !localAddresses.contains(ip) { result.boundAddresses.insert(ip) }
            }
            if svc.nodePort > 0 {
                for ip in nodePortAddresses {
                    let vs = server(ip, svc.nodePort, externalEndpoints)
                    result.virtualServers[vs.key] = vs
                }
            }
            addSetEntries(svc, endpoints: state.endpoints[name] ?? [], to: &result)
        }
        result.setEntries[.ipvsIPs] = Set(result.boundAddresses.map(\.description))
        return result
    }

    /// The ipset entries one Service port contributes (upstream's `syncProxyRules` per service).
    func addSetEntries(_ svc: ServicePortInfo, endpoints: [Endpoint], to result: inout Desired) {
        let proto = svc.protocol.lowercased
        func ipPort(_ ip: IPAddress, _ port: Int) -> String { "\(ip),\(proto):\(port)" }
        // Hairpin: a local endpoint reaching itself through the Service is masqueraded.
        for ep in endpoints where ep.isLocal {
            result.insert("\(ep.ip),\(proto):\(ep.port),\(ep.ip)", into: .loopBack)
        }
        result.insert(ipPort(svc.clusterIP, svc.port), into: .clusterIP)
        for ip in svc.externalIPs {
            result.insert(ipPort(ip, svc.port), into: svc.externalPolicyLocal ? .externalIPLocal : .externalIP)
        }
        for ip in svc.loadBalancerVIPs {
            let entry = ipPort(ip, svc.port)
            result.insert(entry, into: .loadBalancer)
            if svc.externalPolicyLocal { result.insert(entry, into: .loadBalancerLocal) }
            guard !svc.loadBalancerSourceRanges.isEmpty else { continue }
            result.insert(entry, into: .loadBalancerFW)
            var allowsNode = false
            for range in svc.loadBalancerSourceRanges where range.family == ip.family {
                result.insert("\(entry),\(range)", into: .loadBalancerSourceCIDR)
                if let nodeIP, range.contains(nodeIP) { allowsNode = true }
            }
            if allowsNode {
                result.insert("\(entry),\(ip)", into: .loadBalancerSourceIP)
            } else {
                result.outFilterDrops.insert(.init(address: ip, port: svc.port, protocol: svc.protocol))
            }
        }
        if svc.nodePort > 0 {
            switch svc.protocol {
            case .tcp:
                result.insert("\(svc.nodePort)", into: .nodePortTCP)
                if svc.externalPolicyLocal { result.insert("\(svc.nodePort)", into: .nodePortLocalTCP) }
            case .udp:
                result.insert("\(svc.nodePort)", into: .nodePortUDP)
                if svc.externalPolicyLocal { result.insert("\(svc.nodePort)", into: .nodePortLocalUDP) }
            case .sctp:
                for ip in nodePortAddresses {
                    result.insert(ipPort(ip, svc.nodePort), into: .nodePortSCTP)
                    if svc.externalPolicyLocal { result.insert(ipPort(ip, svc.nodePort), into: .nodePortLocalSCTP) }
                }
            }
        }
        if svc.healthCheckNodePort > 0 { result.insert("\(svc.healthCheckNodePort)", into: .healthCheckNodePort) }
    }
}
