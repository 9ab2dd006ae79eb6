import Foundation
import KubeProxyModel
import Testing

/// What the API server would refuse never gets further than the model: names, List items, and
/// the configuration file's fields.
@Suite("Hostile input: names, List items, strict configuration")
struct HostileInputTests {
    @Test("names: the API server's DNS-1123, DNS-1035 and label-value rules")
    func names() {
        for good in ["a", "kube-system", "a1", String(repeating: "x", count: 63)] { #expect(NameValidation.dns1123Label(good) == nil, "\(good)") }
        for bad in ["", "A", "-a", "a-", "a.b", "a_b", "a\nb", "a\"b", "é", String(repeating: "x", count: 64)] {
            #expect(NameValidation.dns1123Label(bad) != nil, "\(bad.debugDescription)")
        }
        #expect(NameValidation.dns1035Label("1abc") != nil)
        #expect(NameValidation.dns1035Label("abc1") == nil)
        for good in ["web-7d9f8-abcde", "a.b.c", String(repeating: "a", count: 253)] { #expect(NameValidation.dns1123Subdomain(good) == nil, "\(good)") }
        for bad in ["a..b", "a.-b", ".a", "a b", String(repeating: "a", count: 254)] { #expect(NameValidation.dns1123Subdomain(bad) != nil, "\(bad)") }
        for good in ["", "My_Service.v2", "x"] { #expect(NameValidation.labelValue(good) == nil, "\(good)") }
        for bad in ["_x", "x;y", "a\u{0}b", String(repeating: "a", count: 64)] { #expect(NameValidation.labelValue(bad) != nil, "\(bad.debugDescription)") }
    }

    @Test("a List skips a null, a scalar or a bad item alone and keeps the others")
    func listItems() throws {
        var m = Manifests()
        try m.decode("""
        kind: List
        items:
        - null
        - 42
        - {kind: Service, metadata: {name: bad, namespace: ns}, spec: {ports: "not a list"}}
        - {kind: Service, metadata: {name: good, namespace: ns}, spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}}
        """, source: "list.yaml")
        #expect(m.services.map { $0.metadata.name } == ["good"])
        #expect(m.problems.count == 3)
        #expect(m.problems.contains { $0.object == "List items[0]" && $0.reason == "null item" }, "\(m.problems)")
        #expect(m.problems.contains { $0.object == "List items[1]" }, "\(m.problems)")
        #expect(m.problems.contains { $0.object == "Service ns/bad" && $0.reason.contains("spec.ports") }, "the bad Service's field is named: \(m.problems)")
    }

    @Test("documents with a kind are counted: an empty List is deliberate, a file of comments is not")
    func documentsWithKind() throws {
        var empty = Manifests()
        try empty.decode("kind: List\nitems: []\n", source: "a")
        #expect(empty.documentsWithKind == 1)
        var nothing = Manifests()
        try nothing.decode("# being written\n", source: "b")
        #expect(nothing.documentsWithKind == 0)
    }

    static let valid = """
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    kind: KubeProxyConfiguration
    mode: nftables
    featureGates: {AnyGate: true}
    logging: {format: text, vmodule: [{filePattern: "proxier*", verbosity: 4}]}
    iptables: {masqueradeBit: 14, dispatch: tree}
    nftables: {layout: endpoint-maps}
    conntrack: {maxPerCore: null}
    """

    @Test("strict configuration: upstream's fields (and ours) are accepted")
    func strictAccepts() throws {
        let config = try KubeProxyConfiguration.strictlyDecoding(Self.valid, source: "c.yaml")
        #expect(config.mode == "nftables")
        #expect(config.iptables?.dispatch == "tree" && config.nftables?.layout == "endpoint-maps")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = try String(contentsOf: root.appendingPathComponent("examples/config.yaml"), encoding: .utf8)
        #expect(try KubeProxyConfiguration.strictlyDecoding(example, source: "examples/config.yaml").hostnameOverride == "lab-node")
    }

    @Test("strict configuration: every upstream fixture's configuration is accepted")
    func fixturesAccepted() throws {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let files = FileManager.default.enumerator(atPath: tests.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix("/config.yaml") } ?? []
        #expect(files.count >= 20, "the fixtures' configurations are found: \(files.count)")
        for file in files {
            let text = try String(contentsOf: tests.appendingPathComponent(file), encoding: .utf8)
            #expect(throws: Never.self, "\(file)") { try KubeProxyConfiguration.strictlyDecoding(text, source: file) }
        }
    }

    @Test("strict configuration: an unknown field, a wrong apiVersion or kind is refused, naming it", arguments: [
        ("iptables: {masqueradeBit: 14, masqueradAll: true}", "KubeProxyConfiguration.iptables.masqueradAll: unknown field"),
        ("mode: iptables\nsyncPeriodd: 30s", "KubeProxyConfiguration.syncPeriodd: unknown field"),
        ("logging: {vmodule: [{filePattern: x, level: 2}]}", "KubeProxyConfiguration.logging.vmodule[0].level: unknown field"),
        ("nodePortAddresses: {a: b}", "KubeProxyConfiguration.nodePortAddresses: must be a list"),
        ("mode: {iptables: true}", "KubeProxyConfiguration.mode: must be a single value"),
        ("iptables: {masqueradeBit: fourteen}", "KubeProxyConfiguration field iptables.masqueradeBit"),
    ])
    func strictRefuses(body: String, message: String) {
        let text = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n" + body
        #expect { try KubeProxyConfiguration.strictlyDecoding(text, source: "c.yaml") } throws: { error in
            "\(error)".contains(message) && (error as? ManifestError)?.code == .invalidConfiguration
        }
    }

    @Test("strict configuration: apiVersion and kind must be upstream's", arguments: [
        ("apiVersion: kubeproxy.config.k8s.io/v1beta1\nkind: KubeProxyConfiguration", "apiVersion: must be"),
        ("kind: KubeProxyConfiguration", "apiVersion: must be \"kubeproxy.config.k8s.io/v1alpha1\", not missing"),
        ("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeletConfiguration", "kind: must be \"KubeProxyConfiguration\", not \"KubeletConfiguration\""),
        ("", "the file is empty"),
    ])
    func strictTypeMeta(text: String, message: String) {
        #expect { try KubeProxyConfiguration.strictlyDecoding(text, source: "c.yaml") } throws: { "\($0)".contains(message) }
    }

    @Test("interface names for detectLocal reach rules only when the kernel could have them")
    func interfaceNames() {
        var config = KubeProxyConfiguration()
        config.detectLocalMode = "InterfaceNamePrefix"
        config.detectLocal = .init()
        config.detectLocal?.interfaceNamePrefix = "veth\" -j DROP"
        #expect(config.validationErrors().contains { $0.hasPrefix("KubeProxyConfiguration.detectLocal.interfaceNamePrefix: Invalid value") })
        config.detectLocal?.interfaceNamePrefix = "veth"
        #expect(config.validationErrors().isEmpty)
        config.detectLocal?.interfaceNamePrefix = nil
        #expect(config.validationErrors().contains { $0.contains("interfaceNamePrefix: Required value") })
    }
}
