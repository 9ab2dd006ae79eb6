import Foundation
import Testing

/// The nftables tracer against the kernel's own trace (`meta nftrace set 1` + `nft monitor trace`)
/// in the lab: for each sample packet, the chains where the kernel matched a rule must appear, in
/// order, among the tracer's matched rules, and the verdicts must agree.
@Suite("Kernel: the nftables tracer agrees with nft monitor trace", .serialized,
       .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct NFTablesTraceCrossCheckTests {
    struct Sample: Sendable, CustomStringConvertible {
        var from: String, src: String, dst: String, port: Int, udp: Bool = false
        var description: String { "\(src) -> \(dst):\(port)\(udp ? "/udp" : "")" }
    }

    static let samples = [
        Sample(from: "client", src: "198.18.1.14", dst: "198.18.10.10", port: 80),   // ClusterIP, 3 endpoints
        Sample(from: "client", src: "198.18.1.14", dst: "198.18.10.12", port: 53, udp: true),
        Sample(from: "client", src: "198.18.1.14", dst: "198.18.10.18", port: 80),   // no endpoints: reject
        Sample(from: "ext", src: "198.18.2.3", dst: "198.18.30.1", port: 80),        // LB, source not allowed: drop
        Sample(from: "ext", src: "198.18.2.2", dst: "198.18.30.1", port: 80),        // LB, allowed
        Sample(from: "ext", src: "198.18.2.2", dst: "198.18.2.1", port: 30082),      // NodePort, eTP=Local
    ]

    @Test("same chain path and verdict for a sample of packets")
    func crossCheck() throws {
        let lab = try Lab(prefix: "kt")
        defer { lab.tearDown() }
        try lab.writeManifests(Lab.exampleDocuments())
        try lab.startProxy(mode: "nftables")
        let ruleset = lab.directory.appendingPathComponent("trace.nft")
        try """
            table inet skp-trace {
              chain pre { type filter hook prerouting priority -350; ip saddr { 198.18.1.14, 198.18.2.2, 198.18.2.3 } meta nftrace set 1; }
            }
            """.write(to: ruleset, atomically: true, encoding: .utf8)
        let setup = lab.inNamespace("node", "nft -f '\(ruleset.path)'")
        #expect(setup.status == 0, "\(setup.output)")
        let hosts = ["198.18.1.1", "198.18.1.5", "198.18.1.9", "198.18.1.13", "198.18.2.1", "127.0.0.1"].flatMap { ["--host-address", $0] }
        for sample in Self.samples {
            let kernel = try kernelTrace(lab, sample)
            let args = ["trace", "--config", Lab.root.appendingPathComponent("examples/config.yaml").path, "--manifests", lab.manifestPath,
                        "--proxy-mode", "nftables", "--output", "json", "--src", sample.src, "--dst", sample.dst,
                        "--dport", String(sample.port), "--protocol", sample.udp ? "udp" : "tcp"] + hosts
            let ours = Lab.shell("'\(Lab.binary)' " + args.map { "'\($0)'" }.joined(separator: " ") + " 2>/dev/null")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(ours.output.utf8)) as? [String: Any], "\(sample)")
            let steps = json["steps"] as? [[String: Any]] ?? []
            let ourPath = steps.filter { $0["kind"] as? String == "rule" && $0["matched"] as? Bool == true }.compactMap { $0["chain"] as? String }
            #expect(!kernel.chains.isEmpty, "\(sample): the kernel traced nothing")
            #expect(Self.isSubsequence(kernel.chains, of: ourPath), "\(sample): kernel path \(kernel.chains) not in ours \(ourPath)")
            switch kernel.verdict {
            case .dnat(let endpoint):
                #expect(json["verdict"] as? String == "DNAT", "\(sample)")
                #expect((json["endpoints"] as? [String] ?? []).contains(endpoint), "\(sample): kernel chose \(endpoint)")
            case .drop:
                #expect(json["verdict"] as? String == "DROP", "\(sample)")
            case .reject:
                #expect(json["verdict"] as? String == "REJECT", "\(sample)")
            }
        }
    }

    enum Verdict { case dnat(String), drop, reject }

    /// Traces one new connection in the kernel and returns the chains of kube-proxy's table
    /// where a rule matched, in order, and how the packet ended.
    func kernelTrace(_ lab: Lab, _ sample: Sample) throws -> (chains: [String], verdict: Verdict) {
        let out = lab.directory.appendingPathComponent("trace-\(sample.port).txt")
        guard let monitor = Lab.spawn(["/bin/bash", "-c", "exec ip netns exec \(lab.prefix)node nft monitor trace > '\(out.path)' 2>&1"]) else {
            throw LabError(message: "cannot start nft monitor")
        }
        Thread.sleep(forTimeInterval: 0.4)
        _ = lab.probe(from: sample.from, dst: sample.dst, port: sample.port, udp: sample.udp, src: sample.src, timeout: 400)
        Thread.sleep(forTimeInterval: 0.4)
        kill(monitor, SIGTERM)
        _ = Lab.wait(monitor)
        let lines = ((try? String(contentsOf: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        // The id of the first packet from the sample's source to its destination.
        guard let first = lines.first(where: { $0.contains("skp-trace pre packet:") && $0.contains("ip saddr \(sample.src) ip daddr \(sample.dst) ") }),
              let id = first.split(separator: " ").dropFirst(2).first.map(String.init) else { return ([], .drop) }
        var chains: [String] = []
        var verdict = Verdict.drop
        var started = false
        for line in lines where line.hasPrefix("trace id \(id) ") {
            if line.contains("skp-trace pre packet:") {
                if started { break }
                started = true
                continue
            }
            let words = line.split(separator: " ").map(String.init)
            guard words.count > 6, words[3] == "ip", words[4] == "kube-proxy", words[6] == "rule" else { continue }
            chains.append(words[5])
            if let to = line.range(of: "dnat to ") {
                verdict = .dnat(String(line[to.upperBound...].prefix { $0 != " " }))
            } else if line.contains(" rule reject ") {
                verdict = .reject
            } else if line.hasSuffix("(verdict drop)") {
                verdict = .drop
            }
        }
        return (chains, verdict)
    }

    static func isSubsequence(_ needle: [String], of haystack: [String]) -> Bool {
        var i = haystack.startIndex
        for item in needle {
            guard let found = haystack[i...].firstIndex(of: item) else { return false }
            i = found + 1
        }
        return true
    }
}
