import KubeProxyCore
import KubeProxyModel
import Testing

@Suite("Endpoint selection (upstream CategorizeEndpoints)")
struct EndpointSelectionTests {
    let name = ServicePortName(namespace: "ns", name: "s", port: "p", protocol: .tcp)
    func ep(_ last: Int, local: Bool = false, ready: Bool = true, serving: Bool = true, terminating: Bool = false, zones: Set<String> = []) -> Endpoint {
        Endpoint(ip: .v4(0x0a00_0000 | UInt32(last)), port: 80, isLocal: local, ready: ready, serving: serving, terminating: terminating, zoneHints: zones)
    }

    @Test("ready endpoints are used; with none ready, serving and terminating ones are")
    func fallback() {
        let svc = ServicePortInfo(name: name, clusterIP: .v4(1), port: 80)
        let ready = EndpointSelection(service: svc, endpoints: [ep(1), ep(2, ready: false, serving: true, terminating: true)], nodeName: "n", nodeLabels: [:])
        #expect(ready.clusterEndpoints.map(\.description) == ["10.0.0.1:80"])
        let fallback = EndpointSelection(service: svc, endpoints: [ep(2, ready: false, serving: true, terminating: true), ep(3, ready: false, serving: false, terminating: true)],
                                         nodeName: "n", nodeLabels: [:])
        #expect(fallback.clusterEndpoints.map(\.description) == ["10.0.0.2:80"])
        #expect(fallback.hasAnyEndpoints)
        let none = EndpointSelection(service: svc, endpoints: [ep(3, ready: false, serving: false)], nodeName: "n", nodeLabels: [:])
        #expect(!none.hasAnyEndpoints && none.clusterEndpoints.isEmpty)
    }

    @Test("externalTrafficPolicy Local keeps cluster endpoints for internal traffic and local ones for external")
    func externalLocal() {
        let svc = ServicePortInfo(name: name, clusterIP: .v4(1), port: 80, nodePort: 30000, externalPolicyLocal: true)
        let s = EndpointSelection(service: svc, endpoints: [ep(1), ep(2, local: true)], nodeName: "n", nodeLabels: [:])
        #expect(s.clusterEndpoints.count == 2)
        #expect(s.localEndpoints.map(\.description) == ["10.0.0.2:80"])
        #expect(s.allReachableEndpoints.count == 2)
    }

    @Test("internalTrafficPolicy Local without local endpoints has endpoints, but none for internal traffic")
    func internalLocal() {
        let svc = ServicePortInfo(name: name, clusterIP: .v4(1), port: 80, internalPolicyLocal: true)
        let s = EndpointSelection(service: svc, endpoints: [ep(1)], nodeName: "n", nodeLabels: [:])
        #expect(s.hasAnyEndpoints)
        #expect(s.localEndpoints.isEmpty && s.clusterEndpoints.isEmpty && s.allReachableEndpoints.isEmpty)
    }

    @Test("policy decisions: which policy chains exist and whether internal and external traffic have an endpoint")
    func policyDecisions() {
        let externalLocal = ServicePortInfo(name: name, clusterIP: .v4(1), port: 80, nodePort: 30000, externalPolicyLocal: true)
        let remoteOnly = EndpointSelection(service: externalLocal, endpoints: [ep(1)], nodeName: "n", nodeLabels: [:])
        #expect(remoteOnly.usesClusterPolicy && !remoteOnly.usesLocalPolicy)
        #expect(remoteOnly.hasInternalEndpoints && !remoteOnly.hasExternalEndpoints)
        let withLocal = EndpointSelection(service: externalLocal, endpoints: [ep(1), ep(2, local: true)], nodeName: "n", nodeLabels: [:])
        #expect(withLocal.usesClusterPolicy && withLocal.usesLocalPolicy && withLocal.hasExternalEndpoints)
        let internalLocal = ServicePortInfo(name: name, clusterIP: .v4(1), port: 80, internalPolicyLocal: true)
        let noLocal = EndpointSelection(service: internalLocal, endpoints: [ep(1)], nodeName: "n", nodeLabels: [:])
        #expect(!noLocal.usesClusterPolicy && !noLocal.usesLocalPolicy && !noLocal.hasInternalEndpoints)
        let none = EndpointSelection(service: externalLocal, endpoints: [], nodeName: "n", nodeLabels: [:])
        #expect(!none.hasInternalEndpoints && !none.hasExternalEndpoints)
    }

    @Test("IPVS real servers: a Local policy uses the node's endpoints, else the cluster's (upstream #97081), topology included")
    func ipvsFallback() {
        let labels = [Node.zoneLabel: "a"]
        let externalLocal = ServicePortInfo(name: name, clusterIP: .v4(1), port: 80, nodePort: 30000, externalPolicyLocal: true)
        // No local endpoint: external traffic falls back to the cluster's endpoints after topology hints.
        let remote = EndpointSelection(service: externalLocal, endpoints: [ep(1, zones: ["a"]), ep(2, zones: ["b"])], nodeName: "n", nodeLabels: labels)
        #expect(remote.ipvsExternalEndpoints.map(\.description) == ["10.0.0.1:80"])
        #expect(remote.ipvsInternalEndpoints.map(\.description) == ["10.0.0.1:80"])
        let local = EndpointSelection(service: externalLocal, endpoints: [ep(1), ep(2, local: true)], nodeName: "n", nodeLabels: [:])
        #expect(local.ipvsExternalEndpoints.map(\.description) == ["10.0.0.2:80"])
        #expect(local.ipvsInternalEndpoints.count == 2)
        // iTP=Local on an externally reachable Service: the ClusterIP falls back to the cluster's endpoints too.
        let bothLocal = ServicePortInfo(name: name, clusterIP: .v4(1), port: 80, nodePort: 30000, internalPolicyLocal: true)
        let fallback = EndpointSelection(service: bothLocal, endpoints: [ep(1)], nodeName: "n", nodeLabels: [:])
        #expect(fallback.ipvsInternalEndpoints.map(\.description) == ["10.0.0.1:80"])
        // iTP=Local on a ClusterIP-only Service: no cluster endpoints are selected, so none.
        let internalOnly = EndpointSelection(service: ServicePortInfo(name: name, clusterIP: .v4(1), port: 80, internalPolicyLocal: true),
                                             endpoints: [ep(1)], nodeName: "n", nodeLabels: [:])
        #expect(internalOnly.ipvsInternalEndpoints.isEmpty)
    }

    @Test("topology hints keep cluster traffic in this node's zone when every ready endpoint has hints")
    func topology() {
        let svc = ServicePortInfo(name: name, clusterIP: .v4(1), port: 80)
        let labels = [Node.zoneLabel: "a"]
        let hinted = EndpointSelection(service: svc, endpoints: [ep(1, zones: ["a"]), ep(2, zones: ["b"])], nodeName: "n", nodeLabels: labels)
        #expect(hinted.clusterEndpoints.map(\.description) == ["10.0.0.1:80"])
        let partial = EndpointSelection(service: svc, endpoints: [ep(1, zones: ["a"]), ep(2)], nodeName: "n", nodeLabels: labels)
        #expect(partial.clusterEndpoints.count == 2)
        let otherZone = EndpointSelection(service: svc, endpoints: [ep(1, zones: ["b"]), ep(2, zones: ["b"])], nodeName: "n", nodeLabels: labels)
        #expect(otherZone.clusterEndpoints.count == 2)
    }

    @Test("stale UDP conntrack: a removed endpoint, and a Service that gains its first endpoint")
    func staleConntrack() {
        let udp = ServicePortName(namespace: "ns", name: "dns", port: "dns", protocol: .udp)
        let svc = ServicePortInfo(name: udp, clusterIP: .v4(0x0a60_000a), port: 53, nodePort: 30053)
        var before = ProxyState(family: .ipv4, nodeName: "n", services: [udp: svc], endpoints: [udp: [ep(1), ep(2)]])
        var after = before
        after.endpoints[udp] = [ep(2)]
        let removed = StaleConntrack.deletions(previous: before, current: after)
        #expect(removed.map(\.description) == ["udp 10.96.0.10:53 via 10.0.0.1:80", "udp *:30053 via 10.0.0.1:80"])
        before.endpoints[udp] = []
        let gained = StaleConntrack.deletions(previous: before, current: after)
        #expect(gained.map(\.description) == ["udp 10.96.0.10:53", "udp *:30053"])
        #expect(StaleConntrack.deletions(previous: after, current: after).isEmpty)
    }

    @Test("stale UDP conntrack where upstream kept flows going: a Service scaled to zero, a Service deleted")
    func staleConntrackGone() {
        let udp = ServicePortName(namespace: "ns", name: "dns", port: "dns", protocol: .udp)
        let svc = ServicePortInfo(name: udp, clusterIP: .v4(0x0a60_000a), port: 53)
        let before = ProxyState(family: .ipv4, nodeName: "n", services: [udp: svc], endpoints: [udp: [ep(1), ep(2)]])
        var scaledToZero = before
        scaledToZero.endpoints[udp] = []
        #expect(StaleConntrack.deletions(previous: before, current: scaledToZero).map(\.description)
                == ["udp 10.96.0.10:53 via 10.0.0.1:80", "udp 10.96.0.10:53 via 10.0.0.2:80"])
        var deleted = before
        deleted.services[udp] = nil
        deleted.endpoints[udp] = nil
        #expect(StaleConntrack.deletions(previous: before, current: deleted).map(\.description)
                == ["udp 10.96.0.10:53 via 10.0.0.1:80", "udp 10.96.0.10:53 via 10.0.0.2:80"])
        #expect(StaleConntrack.deletions(previous: scaledToZero, current: scaledToZero).isEmpty)
    }
}
