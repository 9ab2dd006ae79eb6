import Foundation
import Testing
import Yams

/// `trace --live` on rules written by upstream kube-proxy: upstream's expected rules from the
/// shared fixtures, loaded verbatim with `iptables-restore` / `nft -f` into a scratch namespace
/// (their addresses stay rule text there; no packet is sent), then traced from the kernel.
@Suite("Kernel: trace --live on upstream's rules", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct TraceLiveKernelTests {
    /// Packets over the overall fixtures' cluster: `src dst dport [protocol]`.
    static let overallPackets = [
        "10.0.0.2 10.0.0.3 80", "10.0.0.2 172.30.0.41 80", "10.0.0.2 172.30.0.44 80", "10.0.0.2 172.30.0.45 80",
        "10.0.0.2 172.30.0.46 80", "10.0.0.2 172.30.0.41 81", "10.0.0.2 172.30.0.41 80 udp", "192.168.0.2 192.168.99.22 80",
        "203.0.113.2 192.168.99.22 80", "203.0.113.2 192.168.0.2 3001", "203.0.113.2 192.168.0.2 3003",
        "203.0.113.2 5.6.7.8 80", "203.0.113.130 5.6.7.8 80", "192.168.0.2 172.30.0.43 80",
    ].map { $0.split(separator: " ").map(String.init) }

    @Test("iptables: TestTracePacket's rules.txt, restored into the kernel, traces as its flows.yaml says", arguments: ["nft", "legacy"])
    func tracePacketRules(backend: String) throws {
        let fixture = try TraceLive.fixture("iptables/packet-flows/TestTracePacket")
        let ns = try ScratchNamespace("ipt-\(backend)")
        defer { ns.delete() }
        // rules.txt leaves multi-word comments unquoted (upstream's parser allows it; iptables-restore does not).
        let rules = try String(contentsOf: fixture.appendingPathComponent("rules.txt"), encoding: .utf8)
        try ns.load("iptables-\(backend)-restore", TraceLive.quotingComments(rules))
        let flows = try #require(try Yams.load(yaml: String(contentsOf: fixture.appendingPathComponent("flows.yaml"), encoding: .utf8)) as? [[String: Any]])
        #expect(flows.count >= 6)
        let args = try TraceLive.renderArgs(fixture)
        for flow in flows {
            let packet = ["--src", "\(flow["sourceIP"]!)", "--dst", "\(flow["destIP"]!)", "--dport", "\(flow["destPort"]!)",
                          "--protocol", "\(flow["protocol"]!)".lowercased()]
            let live = try TraceLive.json(["--live"] + packet + args, in: ns.name)
            #expect(live["upstreamOutput"] as? String == flow["expectedOutput"] as? String ?? "", "\(flow["name"]!)")
            #expect(live["masquerade"] as? Bool == flow["expectedMasquerade"] as? Bool, "\(flow["name"]!) masquerade")
            let source = (live["live"] as? [String: Any])?["source"] as? String
            #expect(source == "iptables-\(backend)-save", "\(flow["name"]!): read from \(source ?? "nothing")")
        }
    }

    @Test("iptables: the overall rules (expected.txt) in the kernel trace as `trace` of the same manifests")
    func overallIPTables() throws {
        let fixture = try TraceLive.fixture("iptables/overall_iptables_rules")
        let ns = try ScratchNamespace("ipt-all")
        defer { ns.delete() }
        // This kernel has no nfacct counters: the counting matches go; what the rules do stays.
        let rules = try String(contentsOf: fixture.appendingPathComponent("expected.txt"), encoding: .utf8)
            .replacingOccurrences(of: #" -m nfacct --nfacct-name \S+"#, with: "", options: .regularExpression)
        try ns.load("iptables-nft-restore", rules)
        // The jumps kube-proxy ensures outside its payload, as `trace`'s kernel view holds them.
        try ns.load("iptables-nft-restore --noflush", """
            *nat
            -I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            -I OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            COMMIT

            """)
        try TraceLive.compareWithCompiled(fixture, namespace: ns.name, packets: Self.overallPackets, mode: "iptables")
    }

    @Test("nftables: the overall rules (expected.nft) loaded with nft -f trace as `trace` of the same manifests")
    func overallNFTables() throws {
        let fixture = try TraceLive.fixture("nftables/overall-rules")
        let ns = try ScratchNamespace("nft-all")
        defer { ns.delete() }
        // expected.nft is table state in any order: objects first, then rules and elements.
        let lines = try String(contentsOf: fixture.appendingPathComponent("expected.nft"), encoding: .utf8).split(separator: "\n")
        let objects = lines.filter { line in ["add table ", "add chain ", "add set ", "add map "].contains { line.hasPrefix($0) } }
        let contents = lines.filter { $0.hasPrefix("add rule ") || $0.hasPrefix("add element ") }
        #expect(objects.count + contents.count == lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }.count)
        try ns.load("nft -f -", (objects + contents).joined(separator: "\n") + "\n")
        try TraceLive.compareWithCompiled(fixture, namespace: ns.name, packets: Self.overallPackets, mode: "nftables")
    }

    @Test("IPVS mode's rules are recognised (without IPVS in the kernel, the error says so)")
    func ipvs() throws {
        let ns = try ScratchNamespace("ipvs")
        defer { ns.delete() }
        // A sync's ipsets and nat rules as `render` prints them (the filter rules need the ipvs match module).
        let config = Lab.root.appendingPathComponent("examples/config.yaml").path, manifests = Lab.root.appendingPathComponent("examples/cluster.yaml").path
        let render = Lab.shell("'\(Lab.binary)' render --config '\(config)' --manifests '\(manifests)' --proxy-mode ipvs --host-address 198.18.2.1/24 2>/dev/null")
        let sections = render.output.components(separatedBy: "\n# ")
        let ipsets = try #require(sections.first { $0.hasPrefix("ipset restore\n") }).dropFirst("ipset restore\n".count)
        let iptables = try #require(sections.first { $0.hasPrefix("iptables-restore\n") })
        let nat = try #require(iptables.range(of: "*nat\n").map { iptables[$0.lowerBound...] }?.components(separatedBy: "COMMIT\n").first)
        try ns.load("ipset restore", String(ipsets))
        try ns.load("iptables-nft-restore --noflush", nat + "COMMIT\n")
        let r = TraceLive.run(["--live", "--src", "198.18.1.14", "--dst", "198.18.10.10", "--dport", "80"], in: ns.name)
        let noIPVS = r.status == 1 && r.output.contains("IPVS mode's state cannot be read") && r.output.contains("no IPVS")
        #expect(noIPVS || r.output.contains("live: ipvs mode (detected"), "\(r.output)")
    }

    @Test("a namespace without kube-proxy rules is an error that says so")
    func nothing() throws {
        let ns = try ScratchNamespace("none")
        defer { ns.delete() }
        let r = TraceLive.run(["--live", "--src", "198.18.1.14", "--dst", "198.18.10.10", "--dport", "80"], in: ns.name)
        #expect(r.status == 1 && r.output.contains("no kube-proxy rules for IPv4 in this network namespace"), "\(r.output)")
        let configured = TraceLive.run(["--live", "--proxy-mode", "nftables", "--src", "198.18.1.14", "--dst", "198.18.10.10", "--dport", "80"], in: ns.name)
        #expect(configured.status == 1 && configured.output.contains("(the configuration says nftables mode)"), "\(configured.output)")
    }
}

/// A network namespace of its own (`skptl-…`), deleted at the end.
final class ScratchNamespace: @unchecked Sendable {
    let name: String

    init(_ tag: String) throws {
        name = "skptl-\(tag)-\(UUID().uuidString.prefix(6).lowercased())"
        let r = Lab.shell("ip netns add \(name) && ip netns exec \(name) ip link set lo up")
        guard r.status == 0 else { throw LabError(message: "ip netns add \(name): \(r.output)") }
    }

    deinit { delete() }

    func delete() { _ = Lab.shell("ip netns del \(name) 2>/dev/null") }

    /// Feeds `text` to `command` (a restore tool, `nft -f -`) inside the namespace.
    func load(_ command: String, _ text: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(6)).rules")
        defer { try? FileManager.default.removeItem(at: file) }
        try text.write(to: file, atomically: true, encoding: .utf8)
        let r = Lab.shell("ip netns exec \(name) \(command) < '\(file.path)'")
        #expect(r.status == 0, "\(command): \(r.output)")
        if r.status != 0 { throw LabError(message: "\(command) failed: \(r.output)") }
    }
}
