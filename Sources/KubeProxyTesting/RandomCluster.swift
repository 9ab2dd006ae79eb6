import KubeProxyCore
import KubeProxyModel

/// Random clusters and random changes to them, reproducible from a seed: the input of the
/// "a partial sync equals a full sync" property tests. Service `i` (`rand/svc<i>`, ClusterIP
/// 198.18.128.i) has 1 to 3 ports; a change redraws one Service's spec (type ClusterIP, NodePort
/// or LoadBalancer with a VIP and maybe source ranges, external IPs, affinity on or off with a
/// timeout, traffic policies, ports added, removed and renamed) or its endpoints (ready, serving,
/// terminating, local), or removes it.
public struct RandomCluster: Sendable {
    /// SplitMix64: small, fast, and the same sequence everywhere for a seed.
    public struct Generator: RandomNumberGenerator, Sendable {
        var state: UInt64
        public init(seed: UInt64) { state = seed }
        public mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    public var random: Generator
    /// How many Service slots there are (a change may bring a removed one back).
    public let services: Int

    public init(seed: UInt64, services: Int = 12) {
        random = Generator(seed: seed)
        self.services = services
    }

    /// A first state with every Service present.
    public mutating func initial(nodeName: String = "n") -> ProxyState {
        var state = ProxyState(family: .ipv4, nodeName: nodeName)
        for s in 0..<services { redrawService(s, in: &state) }
        return state
    }

    /// One to three random changes; returns what changed, for a failure message.
    public mutating func change(_ state: inout ProxyState) -> [String] {
        (0..<Int.random(in: 1...3, using: &random)).map { _ in
            let s = Int.random(in: 0..<services, using: &random)
            switch Int.random(in: 0..<10, using: &random) {
            case 0: remove(s, from: &state); return "svc\(s) removed"
            case 1...4: redrawEndpoints(s, in: &state); return "svc\(s) endpoints"
            default: redrawService(s, in: &state); return "svc\(s) spec"
            }
        }
    }

    func names(_ s: Int, in state: ProxyState) -> [ServicePortName] { state.services.keys.filter { $0.name == "svc\(s)" } }

    mutating func remove(_ s: Int, from state: inout ProxyState) {
        for name in names(s, in: state) { state.services[name] = nil; state.endpoints[name] = nil }
    }

    mutating func bool(_ oneIn: Int) -> Bool { Int.random(in: 0..<oneIn, using: &random) == 0 }

    /// A new spec for Service `s` (its endpoints follow its ports).
    mutating func redrawService(_ s: Int, in state: inout ProxyState) {
        remove(s, from: &state)
        let type = Int.random(in: 0..<3, using: &random)   // ClusterIP, NodePort, LoadBalancer
        let externalIPs: [IPAddress] = bool(3) ? [.v4(0xC612_C900 + UInt32(s % 4))] : []
        let vips: [IPAddress] = type == 2 ? [.v4(0xC612_C800 + UInt32(s))] : []
        let ranges: [CIDR] = type == 2 && bool(2) ? [CIDR(sloppy: "198.18.2.0/24")!] + (bool(2) ? [CIDR(sloppy: "198.18.3.\(s)/32")!] : []) : []
        let sticky: Int? = bool(3) ? [10, 600, 10800][Int.random(in: 0..<3, using: &random)] : nil
        let externalLocal = type > 0 && bool(3), internalLocal = bool(5)
        let portNames = ["p0", "p1", "http", "dns"].shuffled(using: &random).prefix(Int.random(in: 1...3, using: &random))
        for (index, portName) in portNames.enumerated() {
            let name = ServicePortName(namespace: "rand", name: "svc\(s)", port: portName, protocol: portName == "dns" ? .udp : .tcp)
            state.services[name] = ServicePortInfo(
                name: name, clusterIP: .v4(0xC612_8000 + UInt32(s)), port: 80 + index, nodePort: type > 0 ? 30_000 + s * 4 + index : 0,
                externalIPs: externalIPs, loadBalancerVIPs: vips, loadBalancerSourceRanges: ranges, stickyMaxAgeSeconds: sticky,
                externalPolicyLocal: externalLocal, internalPolicyLocal: internalLocal,
                healthCheckNodePort: type == 2 && externalLocal ? 32_000 + s : 0)
        }
        redrawEndpoints(s, in: &state)
    }

    /// New endpoints for every port of Service `s`: 0 to 4, with random conditions.
    mutating func redrawEndpoints(_ s: Int, in state: inout ProxyState) {
        let count = Int.random(in: 0...4, using: &random)
        let template = (0..<count).map { _ in
            (ip: IPAddress.v4(0xC612_0100 + UInt32(Int.random(in: 2...40, using: &random))), local: bool(2),
             ready: !bool(4), terminating: bool(4))
        }
        for (index, name) in names(s, in: state).sorted().enumerated() {
            var seen = Set<IPAddress>()
            state.endpoints[name] = template.filter { seen.insert($0.ip).inserted }.map {
                Endpoint(ip: $0.ip, port: 8080 + index, isLocal: $0.local, ready: $0.ready && !$0.terminating,
                         serving: $0.ready, terminating: $0.terminating)
            }.sorted()
        }
    }
}
