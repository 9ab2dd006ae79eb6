import Foundation
import Testing

/// `trace --live` on the rules our own `run` wrote in a lab node, for each backend: the live walk
/// equals `trace` of the same manifests, the mode is detected, the rules show no drift, and an
/// existing conntrack entry is reported.
@Suite("Kernel: trace --live on rules written by run", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct TraceLiveLabKernelTests {
    /// `src dst dport [protocol]` over the example cluster.
    static let packets = [
        "198.18.1.14 198.18.10.10 80", "198.18.1.14 198.18.10.12 53 udp", "198.18.1.14 198.18.10.18 80",
        "198.18.1.14 198.18.10.16 80", "198.18.1.14 198.18.10.99 80", "198.18.2.1 198.18.10.10 80",
        "198.18.2.3 198.18.30.1 80", "198.18.2.2 198.18.30.1 80", "198.18.2.2 198.18.20.1 80",
        "198.18.2.2 198.18.2.1 30080", "198.18.2.2 198.18.2.1 30082",
    ].map { $0.split(separator: " ").map(String.init) }

    @Test("trace --live equals trace of the manifests; the mode is detected; no drift", arguments: ["iptables-nft", "iptables-legacy", "nftables", "nftables-maps"])
    func liveEqualsCompiled(mode: String) throws {
        let lab = try Lab(prefix: "skptl-b")
        defer { lab.tearDown() }
        try lab.writeManifests(Lab.exampleDocuments())
        try lab.startProxy(mode: mode)
        let config = Lab.root.appendingPathComponent("examples/config.yaml").path
        let nftables = mode.hasPrefix("nftables")
        let flags = mode == "nftables" ? ["--proxy-mode", "nftables"]
            : mode == "nftables-maps" ? ["--proxy-mode", "nftables", "--nftables-layout", "endpoint-maps"]
            : ["--proxy-mode", "iptables", "--iptables-backend", String(mode.dropFirst(9))]
        for p in Self.packets {
            let packet = ["--src", p[0], "--dst", p[1], "--dport", p[2], "--protocol", p.count > 3 ? p[3] : "tcp"]
            let live = try TraceLive.json(["--live"] + packet, in: "\(lab.prefix)node")
            let compiled = try TraceLive.json(packet + ["--config", config, "--manifests", lab.manifestPath] + flags, in: "\(lab.prefix)node")
            #expect(TraceLive.summary(live) == TraceLive.summary(compiled), "\(mode) \(p)")
            let info = live["live"] as? [String: Any] ?? [:]
            #expect(info["mode"] as? String == (nftables ? "nftables" : "iptables"), "\(p)")
            #expect((info["why"] as? String ?? "").hasPrefix("detected"), "\(p)")
            let source = nftables ? "nft list table ip kube-proxy" : "\(mode)-save"
            #expect(info["source"] as? String == source, "\(p)")
        }
        // With the manifests, the live rules are compared with a fresh sync.
        let text = TraceLive.run(["--live", "--config", config, "--manifests", lab.manifestPath, "--src", "198.18.1.14", "--dst", "198.18.10.10", "--dport", "80"] + flags,
                                 in: "\(lab.prefix)node")
        #expect(text.status == 0 && text.output.contains("drift: none"), "\(text.output)")
        #expect(text.output.contains("live: \(nftables ? "nftables" : "iptables") mode (from the configuration)"), "\(text.output)")
    }

    @Test("an existing conntrack entry of the flow is reported with its DNAT")
    func conntrack() throws {
        let lab = try Lab(prefix: "skptl-c")
        defer { lab.tearDown() }
        try lab.writeManifests(Lab.exampleDocuments())
        try lab.startProxy(mode: "nftables")
        let args = ["--live", "--src", "198.18.1.14", "--dst", "198.18.10.10", "--dport", "80"]
        let before = TraceLive.run(args, in: "\(lab.prefix)node")
        #expect(before.output.contains("conntrack: no existing flow from 198.18.1.14 to 198.18.10.10:80"), "\(before.output)")
        let reply = lab.probe(from: "client", dst: "198.18.10.10", port: 80)
        let pod = try #require(reply.first?.split(separator: " ").first.map(String.init), "no answer: \(reply)")
        let after = TraceLive.run(args, in: "\(lab.prefix)node")
        #expect(after.output.contains("conntrack: an existing flow 198.18.1.14:"), "\(after.output)")
        #expect(after.output.contains(" is DNATed to 198.18.1.") && after.output.contains("(the rules are not consulted for its packets)"), "\(after.output)")
        let json = try TraceLive.json(args, in: "\(lab.prefix)node")
        let flows = json["conntrack"] as? [[String: Any]] ?? []
        let podAddress = ["pod1": "198.18.1.2:8080", "pod2": "198.18.1.6:8080", "pod3": "198.18.1.10:8080"][pod]
        #expect(flows.count == 1 && flows.first?["dnatTo"] as? String == podAddress, "\(flows), answered by \(pod)")
        // Another destination port has no entry.
        let other = TraceLive.run(["--live", "--src", "198.18.1.14", "--dst", "198.18.10.11", "--dport", "80"], in: "\(lab.prefix)node")
        #expect(other.output.contains("conntrack: no existing flow"), "\(other.output)")
    }
}
