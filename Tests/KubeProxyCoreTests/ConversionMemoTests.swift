import KubeProxyCore
import KubeProxyModel
import Testing

/// The daemon's memo of conversions: a build with it equals a build without it, follows every
/// object whose resourceVersion moved, and forgets objects that are gone.
@Suite("Conversion memo across builds")
struct ConversionMemoTests {
    func service(_ name: String, ip: String, version: String?) -> Service {
        var meta = ObjectMeta(name: name, namespace: "ns")
        meta.resourceVersion = version
        return Service(metadata: meta, spec: Service.Spec(clusterIP: ip, ports: [.init(name: "p", port: 80)]), status: nil)
    }

    func slice(_ service: String, _ addresses: [String], version: String?) -> EndpointSlice {
        var meta = ObjectMeta(name: "\(service)-1", namespace: "ns", labels: [EndpointSlice.serviceNameLabel: service])
        meta.resourceVersion = version
        return EndpointSlice(metadata: meta, addressType: "IPv4", ports: [.init(name: "p", protocol: "TCP", port: 80)],
                             endpoints: addresses.map { .init(addresses: [$0]) })
    }

    func build(_ services: [Service], _ slices: [EndpointSlice], memo: ConversionMemo?) -> ProxyState {
        ProxyState.build(services: services, endpointSlices: slices, node: nil, family: .ipv4, nodeName: "n", memo: memo).state
    }

    @Test("changed versions are converted again, unchanged ones reused, removed ones forgotten")
    func follows() {
        let memo = ConversionMemo()
        var services = [service("a", ip: "10.0.0.1", version: "1"), service("b", ip: "10.0.0.2", version: "2")]
        var slices = [slice("a", ["10.1.0.1"], version: "3"), slice("b", ["10.1.0.2", "bad"], version: "4")]
        #expect(build(services, slices, memo: memo) == build(services, slices, memo: nil))

        // b's slice moves to a new version: its endpoints follow; a's stay as they are.
        slices[1] = slice("b", ["10.1.0.9"], version: "5")
        let next = build(services, slices, memo: memo)
        #expect(next == build(services, slices, memo: nil))
        #expect(next.endpoints.values.flatMap { $0 }.map(\.ip.description).sorted() == ["10.1.0.1", "10.1.0.9"])

        // The memo trusts resourceVersion: the same version is not converted again.
        services[0] = service("a", ip: "10.0.0.7", version: "1")
        #expect(build(services, slices, memo: memo).services.values.map(\.clusterIP.description).sorted() == ["10.0.0.1", "10.0.0.2"])
        // Without a version (manifest files) everything is converted.
        services[0] = service("a", ip: "10.0.0.7", version: nil)
        #expect(build(services, slices, memo: memo).services.values.map(\.clusterIP.description).sorted() == ["10.0.0.2", "10.0.0.7"])

        // Gone, then back with the old version: converted afresh (the entry was dropped with the object).
        let withoutB = build([services[0]], [slices[0]], memo: memo)
        #expect(withoutB.services.count == 1)
        services[1] = service("b", ip: "10.0.0.8", version: "2")
        #expect(build(services, slices, memo: memo).services.values.map(\.clusterIP.description).sorted() == ["10.0.0.7", "10.0.0.8"])
    }
}
