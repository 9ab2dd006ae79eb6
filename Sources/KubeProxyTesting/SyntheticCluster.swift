import KubeProxyCore
import KubeProxyModel

/// Synthetic clusters for benchmarks and scale tests: `services` ClusterIP Services (one TCP port)
/// with `endpoints` ready endpoints each, addresses from 198.18.0.0/15.
public enum SyntheticCluster {
    /// The state of such a cluster, built directly (no manifest parsing).
    public static func state(services: Int, endpoints: Int, nodeName: String = "bench-node") -> ProxyState {
        var state = ProxyState(family: .ipv4, nodeName: nodeName)
        for i in 0..<services {
            let name = ServicePortName(namespace: "bench", name: "svc-\(i)", port: "http", protocol: .tcp)
            // ClusterIPs from 198.18.128.0/17 onwards, endpoints from 198.19.0.0/16.
            let vip = IPAddress.v4(0xC612_8000 + UInt32(i))
            state.services[name] = ServicePortInfo(name: name, clusterIP: vip, port: 80)
            state.endpoints[name] = (0..<endpoints).map { e in
                Endpoint(ip: .v4(0xC613_0000 + UInt32((i * endpoints + e) % 65_000)), port: 8080 + e / 65_000 + (i * endpoints + e) / 65_000)
            }.sorted()
        }
        return state
    }

    /// The same state with the first endpoint of Service `index` moved to another address.
    public static func changingOneEndpoint(_ state: ProxyState, index: Int = 0) -> ProxyState {
        var next = state
        let name = ServicePortName(namespace: "bench", name: "svc-\(index)", port: "http", protocol: .tcp)
        if var eps = next.endpoints[name], !eps.isEmpty {
            eps[0] = Endpoint(ip: .v4(0xC613_FFFE), port: eps[0].port)
            next.endpoints[name] = eps.sorted()
        }
        return next
    }
}
