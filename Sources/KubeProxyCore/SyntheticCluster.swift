import KubeProxyModel

/// Synthetic clusters for benchmarks and scale tests: `services` ClusterIP Services `bench/svc-NNNNN`
/// (one TCP port 80, in KUBE-SERVICES order by number) with `endpoints` ready endpoints each;
/// ClusterIPs from 198.18.128.0/17.
public enum SyntheticCluster {
    /// The ClusterIP of Service number `index`.
    public static func clusterIP(_ index: Int) -> IPAddress { .v4(0xC612_8000 + UInt32(index)) }

    /// The name of Service number `index` (zero-padded, so names sort by number).
    public static func name(_ index: Int) -> ServicePortName {
        let digits = String(index)
        return ServicePortName(namespace: "bench", name: "svc-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits,
                               port: "http", protocol: .tcp)
    }

    /// The state of such a cluster, built directly (no manifest parsing).
    /// - Parameter endpoint: endpoint `e` of Service `s`; by default distinct addresses in 198.19.0.0/16.
    public static func state(services: Int, endpoints: Int, nodeName: String = "bench-node",
                             endpoint: (Int, Int) -> Endpoint = { s, e in defaultEndpoint(s, e, perService: 10) }) -> ProxyState {
        var state = ProxyState(family: .ipv4, nodeName: nodeName)
        for i in 0..<services {
            let name = name(i)
            state.services[name] = ServicePortInfo(name: name, clusterIP: clusterIP(i), port: 80)
            state.endpoints[name] = (0..<endpoints).map { endpoint(i, $0) }.sorted()
        }
        return state
    }

    /// Distinct endpoint addresses in 198.19.0.0/16 (ports above 8080 once addresses wrap).
    public static func defaultEndpoint(_ s: Int, _ e: Int, perService: Int) -> Endpoint {
        let n = s * perService + e
        return Endpoint(ip: .v4(0xC613_0000 + UInt32(n % 65_000)), port: 8080 + n / 65_000)
    }

    /// The same state with the first endpoint of Service `index` moved to another address.
    public static func changingOneEndpoint(_ state: ProxyState, index: Int = 0) -> ProxyState {
        var next = state
        let name = name(index)
        if var eps = next.endpoints[name], !eps.isEmpty {
            eps[0] = Endpoint(ip: .v4(0xC613_FFFE), port: eps[0].port)
            next.endpoints[name] = eps.sorted()
        }
        return next
    }
}
