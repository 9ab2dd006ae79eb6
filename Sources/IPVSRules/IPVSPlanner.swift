import KubeProxyCore
import KubeProxyModel

/// ProxyState -> the virtual servers IPVS mode wants, and the addresses to bind on `kube-ipvs0`.
///
/// One virtual server per (address, port, protocol): the ClusterIP, each external IP, each
/// LoadBalancer IP, and the NodePort on every node address. Real servers are the endpoints the
/// traffic policy selects (internal: cluster endpoints, or local ones with iTP=Local; external:
/// local ones with eTP=Local), weight 1. ClientIP affinity is persistence with the Service's timeout.
public struct IPVSPlanner: Sendable {
    public var scheduler: String
    /// Addresses NodePorts listen on (this family's, without loopback and kube-ipvs0's).
    public var nodePortAddresses: [IPAddress]
    /// Addresses already on other interfaces: external and LB IPs among them are not bound again.
    public var localAddresses: Set<IPAddress>

    public init(scheduler: String = "rr", nodePortAddresses: [IPAddress], localAddresses: Set<IPAddress> = []) {
        self.scheduler = scheduler.isEmpty ? "rr" : scheduler
        self.nodePortAddresses = nodePortAddresses
        self.localAddresses = localAddresses
    }

    /// What one sync wants.
    public struct Desired: Hashable, Sendable {
        public var virtualServers: [VirtualServer.Key: VirtualServer] = [:]
        /// Addresses to bind on kube-ipvs0 (ClusterIPs always; external/LB IPs unless already local).
        public var boundAddresses: Set<IPAddress> = []
    }

    public func desired(_ state: ProxyState) -> Desired {
        var result = Desired()
        let flags: UInt32 = scheduler == "mh" ? VirtualServer.mhPortFlag : 0
        for name in state.sortedServicePortNames {
            guard let svc = state.services[name] else { continue }
            let selection = EndpointSelection(service: svc, endpoints: state.endpoints[name] ?? [], nodeName: state.nodeName, nodeLabels: state.nodeLabels)
            let persistence = svc.stickyMaxAgeSeconds
            func server(_ address: IPAddress, _ port: Int, _ endpoints: [Endpoint]) -> VirtualServer {
                VirtualServer(key: .init(address: address, port: port, protocol: svc.protocol), scheduler: scheduler,
                              flags: flags | (persistence == nil ? 0 : VirtualServer.persistentFlag), timeout: persistence ?? 0,
                              realServers: endpoints.map { RealServer(address: $0.ip, port: $0.port) }.sorted())
            }
            let internalEndpoints = svc.internalPolicyLocal ? selection.localEndpoints : selection.clusterEndpoints
            let externalEndpoints = svc.externalPolicyLocal ? selection.localEndpoints : selection.clusterEndpoints
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
        }
        return result
    }
}
