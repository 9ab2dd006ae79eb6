import KubeProxyCore
import KubeProxyModel
import Testing

/// An object the API server would refuse is skipped alone, named with its field, and nothing of
/// it reaches the state; every other object is kept.
@Suite("Objects validated as the API server would")
struct ValidationTests {
    func service(_ namespace: String, _ name: String, ip: String, ports: [Service.Port] = [.init(name: "p", port: 80)]) -> Service {
        Service(metadata: ObjectMeta(name: name, namespace: namespace), spec: Service.Spec(clusterIP: ip, ports: ports))
    }

    func slice(_ namespace: String, _ name: String, service: String, portName: String = "p") -> EndpointSlice {
        EndpointSlice(metadata: ObjectMeta(name: name, namespace: namespace, labels: [EndpointSlice.serviceNameLabel: service]),
                      addressType: "IPv4", ports: [.init(name: portName, protocol: "TCP", port: 8080)],
                      endpoints: [.init(addresses: ["10.1.0.1"])])
    }

    func build(_ services: [Service], _ slices: [EndpointSlice] = []) -> (state: ProxyState, skipped: [SkippedObject]) {
        ProxyState.build(services: services, endpointSlices: slices, node: nil, family: .ipv4, nodeName: "n")
    }

    @Test("a Service with a bad name part is skipped alone, with its field", arguments: [
        ("ns\n-A KUBE-SERVICES -j DROP", "web", "metadata.namespace"),
        ("ns", "web\"", "metadata.name"),
        ("ns", "1web", "metadata.name"),
        ("Ns", "web", "metadata.namespace"),
        ("ns", "wéb", "metadata.name"),
    ])
    func badServiceNames(namespace: String, name: String, field: String) {
        let (state, skipped) = build([service(namespace, name, ip: "10.0.0.1"), service("ok", "other", ip: "10.0.0.2")])
        #expect(state.services.keys.map(\.namespacedName) == ["ok/other"])
        #expect(skipped.count == 1)
        #expect(skipped.first?.field == field)
        #expect(skipped.first?.object.contains("\n") == false, "the log label cannot break a line: \(skipped)")
    }

    @Test("port names: DNS-1123 labels, required when several, unique; no duplicate port and protocol", arguments: [
        ([Service.Port(name: "a", port: 80), .init(name: "a", port: 81)], "spec.ports[1].name", "duplicate value \"a\""),
        ([Service.Port(name: "a", port: 80), .init(port: 81)], "spec.ports[1].name", "required when the Service has more than one port"),
        ([Service.Port(name: "http;drop", port: 80)], "spec.ports[0].name", "must consist of lower case"),
        ([Service.Port(name: "a", port: 80), .init(name: "b", port: 80)], "spec.ports[1]", "duplicate value: port 80 protocol TCP"),
    ])
    func portNames(ports: [Service.Port], field: String, reason: String) {
        let (state, skipped) = build([service("ns", "web", ip: "10.0.0.1", ports: ports), service("ns", "other", ip: "10.0.0.2")])
        #expect(state.services.keys.map(\.name) == ["other"])
        #expect(skipped.map(\.field) == [field])
        #expect(skipped.first?.reason.hasPrefix(reason) == true, "\(skipped)")
    }

    @Test("the same port number on TCP and UDP, and one unnamed port, are fine")
    func validPorts() {
        let ports: [Service.Port] = [.init(name: "dns", protocol: "UDP", port: 53), .init(name: "dns-tcp", protocol: "TCP", port: 53)]
        let (state, skipped) = build([service("ns", "dns", ip: "10.0.0.10", ports: ports), service("ns", "web", ip: "10.0.0.1", ports: [.init(port: 80)])])
        #expect(skipped.isEmpty)
        #expect(state.services.count == 3)
    }

    @Test("an EndpointSlice with a bad name, Service label or port name is skipped whole", arguments: [
        ("ns", "web-1", "web\n", "p", "metadata.labels[kubernetes.io/service-name]"),
        ("ns", "web 1", "web", "p", "metadata.name"),
        ("ns}", "web-1", "web", "p", "metadata.namespace"),
        ("ns", "web-1", "web", "p\"x", "ports[0].name"),
    ])
    func badSlices(namespace: String, name: String, service: String, portName: String, field: String) {
        let services = [self.service("ns", "web", ip: "10.0.0.1"), self.service("ns", "api", ip: "10.0.0.2")]
        let (state, skipped) = build(services, [slice(namespace, name, service: service, portName: portName), slice("ns", "api-1", service: "api")])
        #expect(skipped.map(\.field) == [field])
        #expect(state.endpoints.keys.map(\.name) == ["api"], "only the good slice's endpoints")
    }
}
