import KubeProxyModel
import Testing

@Suite("Reading manifests")
struct ManifestTests {
    @Test("multi-document YAML with a List inside; unrelated kinds are ignored")
    func multiDocument() throws {
        var m = Manifests()
        try m.decode("""
        apiVersion: v1
        kind: Service
        metadata: {name: a, namespace: ns}
        spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: List
        items:
        - apiVersion: discovery.k8s.io/v1
          kind: EndpointSlice
          metadata: {name: a-1, namespace: ns, labels: {kubernetes.io/service-name: a}}
          addressType: IPv4
          ports: [{name: '', port: 8080}]
          endpoints: [{addresses: [10.1.0.1], conditions: {ready: false}}]
        - apiVersion: apps/v1
          kind: Deployment
          metadata: {name: d}
        """, source: "test.yaml")
        #expect(m.services.count == 1)
        #expect(m.endpointSlices.count == 1)
        #expect(m.endpointSlices[0].endpoints?[0].conditions?.ready == false)
        #expect(m.endpointSlices[0].endpoints?[0].conditions?.serving == nil)
        #expect(m.problems.isEmpty)
    }

    @Test("JSON List")
    func json() throws {
        var m = Manifests()
        try m.decode(#"{"kind":"List","items":[{"kind":"Node","metadata":{"name":"n"},"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.9"}]}}]}"#, source: "x.json")
        #expect(m.nodes.first?.nodeIPs == [IPAddress(sloppy: "10.0.0.9")!])
    }

    @Test("a document of the wrong shape is skipped, named with its field; the others are kept")
    func badDocument() throws {
        var m = Manifests()
        try m.decode("""
        kind: Service
        metadata: {name: bad, namespace: ns}
        spec: {ports: [{port: eighty}]}
        ---
        kind: Service
        metadata: {name: good, namespace: ns}
        spec: {clusterIP: 10.0.0.2}
        """, source: "f.yaml")
        #expect(m.services.map(\.metadata.name) == ["good"])
        #expect(m.problems.count == 1)
        #expect(m.problems[0].description.contains("Service ns/bad"))
        #expect(m.problems[0].description.contains("spec.ports[0].port"))
    }

    @Test("a file that is not YAML at all is an error")
    func syntax() {
        var m = Manifests()
        #expect(throws: ManifestError.self) { try m.decode("kind: [unclosed", source: "broken.yaml") }
    }

    @Test("configuration defaults and validation name the field")
    func configuration() throws {
        var c = KubeProxyConfiguration()
        #expect(c.resolvedMode == "iptables" && c.resolvedMasqueradeBit == 14 && c.resolvedSyncPeriod.seconds == 30)
        #expect(c.resolvedMinSyncPeriod.seconds == 1 && c.resolvedLocalhostNodePorts)
        c.mode = "userspace"
        c.iptables = .init()
        c.iptables?.masqueradeBit = 40
        let errors = c.validationErrors()
        #expect(errors.contains { $0.hasPrefix("KubeProxyConfiguration.mode") })
        #expect(errors.contains { $0.hasPrefix("KubeProxyConfiguration.iptables.masqueradeBit") })
    }

    @Test("nftables.layout: upstream (the default) or endpoint-maps; anything else refused, naming the field")
    func nftablesLayout() {
        var c = KubeProxyConfiguration()
        c.mode = "nftables"
        c.nftables = .init()
        c.nftables?.layout = "endpoint-maps"
        #expect(c.validationErrors().isEmpty)
        c.nftables?.layout = "flat"
        #expect(c.validationErrors() == ["KubeProxyConfiguration.nftables.layout: Unsupported value: \"flat\": supported values: \"upstream\", \"endpoint-maps\""])
        c.nftables?.layout = nil
        #expect(c.validationErrors().isEmpty)
    }

    @Test("IPVS mode: its periods, scheduler default, and validation of scheduler, excludeCIDRs and timeouts by field")
    func ipvsConfiguration() throws {
        var c = KubeProxyConfiguration()
        c.mode = "ipvs"
        c.ipvs = .init()
        c.ipvs?.syncPeriod = GoDuration(seconds: 5)
        c.ipvs?.minSyncPeriod = GoDuration(seconds: 0)
        c.iptables = .init()
        c.iptables?.syncPeriod = GoDuration(seconds: 99)
        #expect(c.resolvedSyncPeriod.seconds == 5 && c.resolvedMinSyncPeriod.seconds == 0, "ipvs mode follows ipvs.*, not iptables.*")
        #expect(c.resolvedIPVSScheduler == "rr" && c.validationErrors().isEmpty)
        c.ipvs?.scheduler = "mh"
        #expect(c.resolvedIPVSScheduler == "mh" && c.validationErrors().isEmpty)
        c.ipvs?.scheduler = "fastest"
        c.ipvs?.excludeCIDRs = ["198.18.40.0/24", "not-a-cidr"]
        c.ipvs?.udpTimeout = GoDuration(seconds: -1)
        let errors = c.validationErrors()
        #expect(errors.contains { $0.hasPrefix("KubeProxyConfiguration.ipvs.scheduler: Unsupported value: \"fastest\"") })
        #expect(errors.contains("KubeProxyConfiguration.ipvs.excludeCIDRs[1]: Invalid value: \"not-a-cidr\": must be a valid CIDR"))
        #expect(errors.contains { $0.hasPrefix("KubeProxyConfiguration.ipvs.udpTimeout") })
        #expect(errors.count == 3)
        // The same settings are not checked in another mode (upstream validates the section of the mode in use).
        c.mode = "nftables"
        #expect(c.validationErrors().isEmpty)
    }
}
