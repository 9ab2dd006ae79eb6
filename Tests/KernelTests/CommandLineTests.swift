import Foundation
import KubeProxyTesting
import Testing
import Yams

/// The documented command line, run as a real process: `render` reproduces upstream's full-sync
/// fixtures and `trace --output json` their packet flows.
@Suite("Command line: render and trace against upstream fixtures",
       .enabled(if: FileManager.default.isExecutableFile(atPath: Lab.binary), "build the binary first (swift build)"))
struct CommandLineTests {
    static let fixtures = Lab.root.appendingPathComponent("Tests/IPTablesRulesTests/Fixtures/iptables")

    static func renderArgs(_ caseFile: URL) throws -> [String] {
        let info = try Yams.load(yaml: String(contentsOf: caseFile, encoding: .utf8)) as? [String: Any]
        return info?["renderArgs"] as? [String] ?? []
    }

    static func run(_ arguments: [String], in directory: URL) -> (status: Int32, output: String) {
        let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
        return Lab.shell("cd '\(directory.path)' && '\(Lab.binary)' \(quoted) 2>/dev/null")
    }

    @Test("render reproduces the full-sync fixtures", arguments: ["overall_iptables_rules", "sync_proxy_rules_repeated/step01"])
    func render(_ name: String) throws {
        let dir = Self.fixtures.appendingPathComponent(name)
        let caseDir = name.contains("/") ? dir.deletingLastPathComponent() : dir
        let args = ["render", "--config", caseDir.appendingPathComponent("config.yaml").path, "--manifests", "cluster.yaml"]
            + (try Self.renderArgs(caseDir.appendingPathComponent("case.yaml")))
        let result = Self.run(args, in: dir)
        #expect(result.status == 0)
        let expected = try String(contentsOf: dir.appendingPathComponent("expected.txt"), encoding: .utf8)
        #expect(try IPTablesNormaliser.sorted(result.output) == expected)
    }

    @Test("trace --output json reproduces the packet flows", arguments: ["TestLoadBalancer", "TestExternalTrafficPolicyLocal", "TestNoEndpointsReject"])
    func trace(_ name: String) throws {
        let dir = Self.fixtures.appendingPathComponent("packet-flows/\(name)")
        let base = ["trace", "--config", "config.yaml", "--manifests", "cluster.yaml", "--output", "json"]
            + (try Self.renderArgs(dir.appendingPathComponent("case.yaml")))
        let flows = try Yams.load(yaml: String(contentsOf: dir.appendingPathComponent("flows.yaml"), encoding: .utf8)) as! [[String: Any]]
        for flow in flows {
            let args = base + ["--src", flow["sourceIP"] as! String, "--dst", flow["destIP"] as! String,
                               "--dport", String(flow["destPort"] as! Int), "--protocol", (flow["protocol"] as! String).lowercased()]
            let result = Self.run(args, in: dir)
            #expect(result.status == 0, "\(name): \(flow["name"]!)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            let endpoints = flow["expectedEndpoints"] as? [String] ?? []
            #expect(json["endpoints"] as? [String] == endpoints, "\(name): \(flow["name"]!)")
            let verdict = flow["expectedVerdict"] as? String ?? (endpoints.isEmpty ? "NONE" : "DNAT")
            #expect(json["verdict"] as? String == verdict, "\(name): \(flow["name"]!)")
            #expect(json["masquerade"] as? Bool == flow["expectedMasquerade"] as? Bool, "\(name): \(flow["name"]!)")
            #expect((json["rulesEvaluated"] as? Int ?? 0) > 0)
            #expect(!(json["steps"] as? [Any] ?? []).isEmpty)
        }
    }

    @Test("analyze: rule counts and walks per mode; the tree's longest walk is far shorter at 300 Services")
    func analyze() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skp-analyze-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var items: [[String: Any]] = []
        for i in 0..<300 {
            items.append(["kind": "Service", "metadata": ["namespace": "a", "name": "s\(i)"],
                          "spec": ["clusterIP": "198.18.\(128 + i / 256).\(i % 256)", "ports": [["name": "p", "port": 80]]]])
            items.append(["kind": "EndpointSlice", "metadata": ["namespace": "a", "name": "s\(i)-1", "labels": ["kubernetes.io/service-name": "s\(i)"]],
                          "addressType": "IPv4", "ports": [["name": "p", "port": 8080]], "endpoints": [["addresses": ["198.19.0.\(i % 250 + 1)"]]]])
        }
        try JSONSerialization.data(withJSONObject: ["kind": "List", "items": items]).write(to: dir.appendingPathComponent("c.json"))
        let csv = Lab.root.appendingPathComponent("docs/bench-legacy-tree-nftables.csv").path
        let r = Lab.shell("'\(Lab.binary)' analyze --config '\(Lab.root.path)/examples/config.yaml' --manifests '\(dir.path)/c.json' "
                          + "--host-address 198.18.2.1/24 --kernel-features no-nfacct --bench-results '\(csv)' 2>/dev/null")
        #expect(r.status == 0, "\(r.output)")
        func maxWalk(_ mode: String) -> Int? {
            let row = r.output.split(separator: "\n").first { $0.hasPrefix("| \(mode) |") }?.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return row.flatMap { Int($0[5]) }
        }
        let flat = try #require(maxWalk("iptables")), tree = try #require(maxWalk("iptables (tree)")), nft = try #require(maxWalk("nftables"))
        #expect(flat > 300 && tree < 60 && nft < 40, "flat \(flat), tree \(tree), nftables \(nft)")
        #expect(r.output.contains("ns per rule measured on this node, iptables mode"))
    }

    @Test("bad input: an unreadable config names the field, and exits non-zero")
    func badConfig() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skp-cli-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let header = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
        try "kind: List\nitems: []\n".write(to: dir.appendingPathComponent("m.yaml"), atomically: true, encoding: .utf8)
        for (body, message) in [("iptables: {masqueradeBit: 99}\n", "KubeProxyConfiguration.iptables.masqueradeBit: Invalid value: 99"),
                                ("iptables: {masqueradeBits: 14}\n", "KubeProxyConfiguration.iptables.masqueradeBits: unknown field")] {
            try (header + body).write(to: dir.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
            let r = Lab.shell("cd '\(dir.path)' && '\(Lab.binary)' render --config c.yaml --manifests m.yaml --kernel-features no-nfacct")
            #expect(r.status != 0)
            #expect(r.output.contains(message), "\(r.output)")
        }
    }

    @Test("IPVS mode: a bad scheduler names the field; a kernel without IPVS is refused before anything changes; trace works without one")
    func ipvsMode() throws {
        let config = "'\(Lab.root.path)/examples/config.yaml'", manifests = "'\(Lab.root.path)/examples/cluster.yaml'"
        let bad = Lab.shell("'\(Lab.binary)' run --config \(config) --manifests \(manifests) --proxy-mode ipvs --ipvs-scheduler fastest")
        #expect(bad.status != 0 && bad.output.contains("KubeProxyConfiguration.ipvs.scheduler: Unsupported value: \"fastest\""), "\(bad.output)")
        // This machine's kernel has no IPVS: run says so and exits, in a scratch namespace that stays untouched.
        if Lab.shell("ip netns exec skp-noipvs true 2>/dev/null || ip netns add skp-noipvs").status == 0 {
            defer { Lab.shell("ip netns del skp-noipvs") }
            let refused = Lab.shell("ip netns exec skp-noipvs '\(Lab.binary)' run --config \(config) --manifests \(manifests) --proxy-mode ipvs --healthz-bind-address '' --metrics-bind-address ''")
            if Lab.shell("test -d /proc/sys/net/ipv4/vs").status != 0 {
                #expect(refused.status != 0 && refused.output.contains("this kernel has no IPVS"), "\(refused.output)")
                let left = Lab.shell("ip netns exec skp-noipvs sh -c 'ip link show kube-ipvs0; iptables-legacy-save; iptables-nft-save; ipset list -n'").output
                #expect(!left.contains("kube-ipvs0:") && !left.contains("KUBE-"), "nothing programmed: \(left)")
            }
        }
        let trace = Lab.shell("'\(Lab.binary)' trace --config \(config) --manifests \(manifests) --proxy-mode ipvs --host-address 198.18.2.1/24 "
            + "--kernel-features no-nfacct --src 198.18.2.2 --dst 198.18.2.1 --dport 30082 --output json")
        #expect(trace.status == 0)
        #expect(trace.output.contains("\"verdict\" : \"DNAT\"") && trace.output.contains("\"198.18.1.2:8080\""), "\(trace.output)")
        #expect(trace.output.contains("\"masquerade\" : false"), "eTP=Local keeps the client address")
        // render in IPVS mode: the virtual servers, kube-ipvs0's addresses, the ipsets and the iptables payload.
        let render = Lab.shell("'\(Lab.binary)' render --config \(config) --manifests \(manifests) --proxy-mode ipvs --host-address 198.18.2.1/24 --kernel-features no-nfacct")
        #expect(render.status == 0, "\(render.output)")
        let sections = render.output.split(separator: "\n").filter { $0.hasPrefix("# ") }
        #expect(sections == ["# IPVS virtual servers", "# kube-ipvs0 addresses", "# ipset restore", "# iptables-restore"], "\(sections)")
        #expect(render.output.contains("TCP 198.18.10.16:80 rr persistent 600\n  -> 198.18.1.2:8080 Masq 1"), "\(render.output.prefix(2000))")
        #expect(render.output.contains(" 198.18.10.10,tcp:80\n"), "the ClusterIP set's member")
        #expect(render.output.contains("-A KUBE-SERVICES -m comment --comment \"Kubernetes service cluster ip + port for masquerade purpose\" -m set --match-set KUBE-CLUSTER-IP dst,dst"))
    }
}
