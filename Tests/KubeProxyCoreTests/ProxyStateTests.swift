import KubeProxyCore
import KubeProxyModel
import Testing

@Suite("Building the proxy state")
struct ProxyStateTests {
    func service(_ name: String, _ spec: Service.Spec, status: Service.Status? = nil) -> Service {
        Service(metadata: ObjectMeta(name: name, namespace: "ns"), spec: spec, status: status)
    }

    func slice(_ service: String, _ endpoints: [EndpointSlice.Endpoint], port: Int = 80, name: String = "p") -> EndpointSlice {
        EndpointSlice(metadata: ObjectMeta(name: "\(service)-1", namespace: "ns", labels: [EndpointSlice.serviceNameLabel: service]),
                      addressType: "IPv4", ports: [.init(name: name, protocol: "TCP", port: port)], endpoints: endpoints)
    }

    @Test("headless and ExternalName Services are ignored; a bad one is skipped alone, naming its field")
    func skipping() {
        var headless = Service.Spec(clusterIP: "None", ports: [.init(name: "p", port: 80)])
        headless.type = "ClusterIP"
        let external = Service.Spec(type: "ExternalName", ports: [.init(name: "p", port: 80)])
        let badProtocol = Service.Spec(clusterIP: "10.0.0.3", ports: [.init(name: "p", protocol: "QUIC", port: 80)])
        let badIP = Service.Spec(clusterIP: "10.0.0.300", ports: [.init(name: "p", port: 80)])
        let badPort = Service.Spec(clusterIP: "10.0.0.5", ports: [.init(name: "p", port: 70000)])
        let good = Service.Spec(clusterIP: "10.0.0.4", ports: [.init(name: "p", port: 80)])
        let (state, skipped) = ProxyState.build(
            services: [service("h", headless), service("e", external), service("q", badProtocol), service("i", badIP),
                       service("o", badPort), service("g", good)],
            endpointSlices: [], node: nil, family: .ipv4, nodeName: "n")
        #expect(state.services.keys.map(\.name) == ["g"])
        #expect(skipped.map(\.description).sorted() == [
            "Service ns/i: spec.clusterIP: invalid IP address \"10.0.0.300\"",
            "Service ns/o: spec.ports[0].port: must be between 1 and 65535, got 70000",
            "Service ns/q: spec.ports[0].protocol: unsupported protocol \"QUIC\"",
        ])
    }

    @Test("the other family's Services and slices are not ours")
    func family() {
        var spec = Service.Spec(clusterIP: "fd00::1", ports: [.init(name: "p", port: 80)])
        spec.clusterIPs = ["fd00::1"]
        let (state, skipped) = ProxyState.build(services: [service("v6", spec)], endpointSlices: [], node: nil, family: .ipv4, nodeName: "n")
        #expect(state.services.isEmpty && skipped.isEmpty)
    }

    @Test("slices merge, deduplicate preferring non-terminating, and sort as strings")
    func sliceCache() {
        let a = slice("s", [.init(addresses: ["10.1.1.1"]), .init(addresses: ["10.1.1.11"], conditions: .init(ready: false, serving: true, terminating: true))])
        var b = slice("s", [.init(addresses: ["10.1.1.11"]), .init(addresses: ["10.1.1.2"])])
        b.metadata.name = "s-2"
        let (state, _) = ProxyState.build(services: [], endpointSlices: [a, b], node: nil, family: .ipv4, nodeName: "n")
        let eps = state.endpoints[ServicePortName(namespace: "ns", name: "s", port: "p", protocol: .tcp)] ?? []
        #expect(eps.map(\.description) == ["10.1.1.11:80", "10.1.1.1:80", "10.1.1.2:80"])
        #expect(eps[0].terminating == false)
    }

    @Test("changed Services are found by comparing snapshots")
    func changes() {
        let spec = Service.Spec(clusterIP: "10.0.0.4", ports: [.init(name: "p", port: 80)])
        let one = ProxyState.build(services: [service("a", spec), service("b", spec)], endpointSlices: [slice("a", [.init(addresses: ["10.1.0.1"])])],
                                   node: nil, family: .ipv4, nodeName: "n").state
        let two = ProxyState.build(services: [service("a", spec), service("c", spec)], endpointSlices: [slice("a", [.init(addresses: ["10.1.0.2"])])],
                                   node: nil, family: .ipv4, nodeName: "n").state
        #expect(two.changedServices(since: one) == ["ns/a", "ns/b", "ns/c"])
        #expect(two.changedServices(since: two).isEmpty)
    }

    @Test("chain names match upstream's hash")
    func chainNames() {
        let kubernetes = ServicePortName(namespace: "default", name: "kubernetes", port: "https", protocol: .tcp)
        #expect(ChainNames.serviceChain(kubernetes) == "KUBE-SVC-NPX46M4PTMTKRN6Y")
        let dns = ServicePortName(namespace: "kube-system", name: "kube-dns", port: "dns", protocol: .udp)
        #expect(ChainNames.serviceChain(dns) == "KUBE-SVC-TCOU7JCQXEZGVUNU")
        let nginx = ServicePortName(namespace: "default", name: "nginx", port: "", protocol: .tcp)
        #expect(ChainNames.serviceChain(nginx) == "KUBE-SVC-2CMXP7HKUVJN7L6M")
        #expect(ChainNames.endpointChain(nginx, endpoint: "10.244.2.2:80") == "KUBE-SEP-HUXRPHBUO34UVPEF")
    }
}
