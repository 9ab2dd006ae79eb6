import Foundation
import Testing
import Yams

/// Running `swift-kube-proxy trace` (live or not) from kernel tests, and upstream's fixtures.
enum TraceLive {
    /// A fixture folder (`iptables/packet-flows/TestTracePacket`): from `SKP_FIXTURES`, else the
    /// shared fixtures beside the repository, else the repository's verbatim copies. A missing
    /// folder fails the test.
    static func fixture(_ relative: String) throws -> URL {
        let kind = relative.hasPrefix("nftables/") ? "NFTablesRulesTests" : "IPTablesRulesTests"
        let roots = [ProcessInfo.processInfo.environment["SKP_FIXTURES"].map { URL(fileURLWithPath: $0) },
                     Lab.root.deletingLastPathComponent().appendingPathComponent("shared/fixtures"),
                     Lab.root.appendingPathComponent("Tests/\(kind)/Fixtures")].compactMap { $0 }
        let found = roots.map { $0.appendingPathComponent(relative) }.first { FileManager.default.fileExists(atPath: $0.path) }
        return try #require(found, "fixture folder \(relative) is missing (looked under \(roots.map(\.path)))")
    }

    /// The `renderArgs` of a fixture's `case.yaml` (host addresses, kernel features).
    static func renderArgs(_ fixture: URL) throws -> [String] {
        let info = try Yams.load(yaml: String(contentsOf: fixture.appendingPathComponent("case.yaml"), encoding: .utf8)) as? [String: Any]
        return try #require(info?["renderArgs"] as? [String], "\(fixture.path): no renderArgs")
    }

    /// Runs `trace <args>` (inside `namespace` when given); stdout and stderr together.
    static func run(_ args: [String], in namespace: String? = nil, stderr: Bool = true) -> (status: Int32, output: String) {
        let command = "'\(Lab.binary)' trace " + args.map { "'\($0)'" }.joined(separator: " ") + (stderr ? "" : " 2>/dev/null")
        return Lab.shell(namespace.map { "ip netns exec \($0) \(command)" } ?? command)
    }

    /// `trace <args> --output json`, parsed.
    static func json(_ args: [String], in namespace: String? = nil) throws -> [String: Any] {
        let r = run(args + ["--output", "json"], in: namespace, stderr: false)
        let object = try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]
        return try #require(object, "trace \(args.joined(separator: " ")): status \(r.status): \(r.output)")
    }

    /// What two traces must share: verdict, endpoints with their probabilities, masquerade, rules
    /// evaluated, and the chains where a rule matched, in order.
    static func summary(_ trace: [String: Any]) -> String {
        let candidates = (trace["candidates"] as? [[String: Any]] ?? []).map { "\($0["endpoint"] ?? "")@\(String(format: "%.3f", $0["probability"] as? Double ?? -1))" }
        let path = (trace["steps"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "rule" && $0["matched"] as? Bool == true }.map { "\($0["chain"] ?? "")" }
        return "\(trace["verdict"] ?? "?") \(candidates) masquerade=\(trace["masquerade"] ?? "?") rules=\(trace["rulesEvaluated"] ?? "?") path=\(path)"
    }

    /// Each packet (`src dst dport [protocol]`) traced live in `namespace` and by `trace` from the
    /// fixture's manifests must agree; the live trace must say it read `mode`'s rules.
    static func compareWithCompiled(_ fixture: URL, namespace: String, packets: [[String]], mode: String) throws {
        let args = try renderArgs(fixture)
        let compiledArgs = ["--config", fixture.appendingPathComponent("config.yaml").path, "--manifests", fixture.appendingPathComponent("cluster.yaml").path] + args
        for p in packets {
            let packet = ["--src", p[0], "--dst", p[1], "--dport", p[2], "--protocol", p.count > 3 ? p[3] : "tcp"]
            let live = try json(["--live"] + packet + args, in: namespace)
            let compiled = try json(packet + compiledArgs)
            #expect((live["live"] as? [String: Any])?["mode"] as? String == mode, "\(p)")
            #expect(summary(live) == summary(compiled), "\(p)")
        }
    }

    /// Quotes the unquoted multi-word `--comment` values of restore text.
    static func quotingComments(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            var words = line.split(separator: " ").map(String.init)
            guard let c = words.firstIndex(of: "--comment"), c + 1 < words.count, !words[c + 1].hasPrefix("\"") else { return String(line) }
            var end = c + 1
            while end < words.count, !words[end].hasPrefix("-"), words[end] != "!" { end += 1 }
            guard end - c > 2 else { return String(line) }
            words.replaceSubrange((c + 1)..<end, with: ["\"" + words[(c + 1)..<end].joined(separator: " ") + "\""])
            return words.joined(separator: " ")
        }.joined(separator: "\n")
    }
}
