import Foundation
import KubeProxyTesting
import Testing

/// The soak: the lab, the test API server and `run --kubeconfig`, random churn at a steady rate
/// while a prober keeps connecting (TCP and UDP) to every probed Service, all of which always have
/// a ready endpoint on a pod that never dies, so every failed connection is the proxy's. Faults on a
/// schedule: watch streams dropped mid-event, 410 Gone, the API server refusing everything for
/// 10 s (15% of a short run), kill -9 and a restart, an external flush (a Service's failures are
/// the flush's until it answers again, at most 15 s), and in iptables mode a failing and a hanging
/// (5 s) `iptables-restore` (wrapped on the proxy's `PATH`; nftables mode writes over netlink).
/// At the end `verify` finds no drift. `SKP_SOAK_SECONDS` (default 40; `make soak`: 600) and
/// `SKP_SOAK_RATE` (changes per second, default 20) size it; the report goes to the test log and
/// `soak-<mode>.txt`.
@Suite("Kernel: soak under churn and faults", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct SoakKernelTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seconds = Double(environment["SKP_SOAK_SECONDS"] ?? "40") ?? 40
    static let rate = Double(environment["SKP_SOAK_RATE"] ?? "20") ?? 20
    static let pods = ["198.18.1.2": "pod1", "198.18.1.6": "pod2", "198.18.1.10": "pod3"]
    /// Probed Services: TCP `soak-t<i>` on 198.18.11.<i>:80, UDP `soak-u<i>` on 198.18.11.<20+i>:53.
    static let tcpServices = 6, udpServices = 2, churnServices = 10

    static func service(_ name: String, ip: String, ports: [[String: Any]], extra: [String: Any] = [:]) -> [String: Any] {
        ["apiVersion": "v1", "kind": "Service", "metadata": ["namespace": "soak", "name": name],
         "spec": ["clusterIP": ip, "ports": ports].merging(extra) { $1 }]
    }

    /// A slice of `service` on `ready` pods (by address), the others listed as terminating.
    static func slice(_ service: String, ports: [[String: Any]], ready: [String], terminating: [String]) -> [String: Any] {
        let endpoints = ready.map { ["addresses": [$0], "conditions": ["ready": true], "nodeName": "lab-node"] as [String: Any] }
            + terminating.map { ["addresses": [$0], "conditions": ["ready": false, "serving": true, "terminating": true]] as [String: Any] }
        let trigger = ISO8601DateFormatter().string(from: Date())
        return ["apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                "metadata": ["namespace": "soak", "name": "\(service)-1", "labels": ["kubernetes.io/service-name": service],
                             "annotations": ["endpoints.kubernetes.io/last-change-trigger-time": trigger]],
                "ports": ports, "endpoints": endpoints]
    }

    static let servicesPath = "/api/v1/services", slicesPath = "/apis/discovery.k8s.io/v1/endpointslices"

    /// One random change: a probed Service's endpoints (never without a ready one), or a churn
    /// Service created, deleted or redrawn (type, affinity, ports).
    static func change(_ server: TestAPIServer, _ random: inout RandomCluster.Generator) {
        let addresses = pods.keys.sorted()
        if Bool.random(using: &random) {
            let i = Int.random(in: 0..<(tcpServices + udpServices), using: &random)
            let (name, ports): (String, [[String: Any]]) = i < tcpServices ? ("soak-t\(i)", [["name": "http", "port": 8080, "protocol": "TCP"]])
                : ("soak-u\(i - tcpServices)", [["name": "dns", "port": 5353, "protocol": "UDP"]])
            let shuffled = addresses.shuffled(using: &random)
            let readyCount = Int.random(in: 1...3, using: &random)
            let terminating = Array(shuffled[readyCount...]).filter { _ in Bool.random(using: &random) }
            server.apply(slicesPath, slice(name, ports: ports, ready: Array(shuffled[..<readyCount]), terminating: terminating))
            return
        }
        let c = Int.random(in: 0..<churnServices, using: &random)
        if Int.random(in: 0..<4, using: &random) == 0 {
            server.delete(servicesPath, namespace: "soak", name: "soak-c\(c)")
            server.delete(slicesPath, namespace: "soak", name: "soak-c\(c)-1")
            return
        }
        var ports: [[String: Any]] = [["name": "http", "port": 80, "protocol": "TCP"]]
        if Bool.random(using: &random) { ports.append(["name": "alt", "port": 81, "protocol": "TCP"]) }
        var extra: [String: Any] = [:]
        if Bool.random(using: &random) { extra["type"] = "NodePort"; ports[0]["nodePort"] = 31_000 + c }
        if Bool.random(using: &random) { extra["sessionAffinity"] = "ClientIP" }
        server.apply(servicesPath, service("soak-c\(c)", ip: "198.18.12.\(c)", ports: ports, extra: extra))
        let targetPorts = ports.map { ["name": $0["name"]!, "port": 8080, "protocol": "TCP"] as [String: Any] }
        server.apply(slicesPath, slice("soak-c\(c)", ports: targetPorts, ready: Array(addresses.shuffled(using: &random).prefix(2)), terminating: []))
    }

    /// Failed connections by class.
    struct Tally {
        var tried = 0
        var failures: [String: Int] = [:]
        var samples: [String] = []
        mutating func record(_ outcome: String, service: String, during fault: String?) {
            tried += 1
            guard !pods.values.contains(outcome) else { return }
            let kind = "\(fault.map { "\($0): " } ?? "")\(outcome)"
            failures[kind, default: 0] += 1
            if samples.count < 10 { samples.append("\(service) \(outcome)\(fault.map { " (\($0))" } ?? "")") }
        }
        /// Failures outside the external flush's repair window (which breaks traffic by design).
        var unexpected: Int { failures.filter { !$0.key.hasPrefix("external flush") }.values.reduce(0, +) }
    }

    @Test("churn and faults: no failed connection to a Service with a ready endpoint; verify finds no drift",
          arguments: ["iptables-nft", "iptables-legacy", "nftables"])
    func soak(mode: String) async throws {
        // SKP_SOAK_MODES (comma-separated) runs only those modes, e.g. a long run of one.
        if let only = Self.environment["SKP_SOAK_MODES"], !only.split(separator: ",").contains(Substring(mode)) { return }
        let lab = try Lab(prefix: "ks\(["iptables-nft", "iptables-legacy", "nftables"].firstIndex(of: mode)!)")
        defer { lab.tearDown() }
        let pki = try TestCertificates(ips: ["198.18.2.2"])
        let server = try await TestAPIServer(host: "198.18.2.2", port: 6443, namespace: "\(lab.prefix)ext", tls: try pki.serverContext(requireClientCertificate: true))
        defer { server.stop() }
        let node: [String: Any] = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "lab-node"],
                                   "status": ["addresses": [["type": "InternalIP", "address": "198.18.2.1"]]]]
        server.apply("/api/v1/nodes", node)
        for i in 0..<Self.tcpServices {
            let ports: [[String: Any]] = [["name": "http", "port": 80, "protocol": "TCP"]]
            server.apply(Self.servicesPath, Self.service("soak-t\(i)", ip: "198.18.11.\(i)", ports: ports))
            server.apply(Self.slicesPath, Self.slice("soak-t\(i)", ports: [["name": "http", "port": 8080, "protocol": "TCP"]], ready: Array(Self.pods.keys), terminating: []))
        }
        for i in 0..<Self.udpServices {
            server.apply(Self.servicesPath, Self.service("soak-u\(i)", ip: "198.18.11.\(20 + i)", ports: [["name": "dns", "port": 53, "protocol": "UDP"]]))
            server.apply(Self.slicesPath, Self.slice("soak-u\(i)", ports: [["name": "dns", "port": 5353, "protocol": "UDP"]], ready: Array(Self.pods.keys), terminating: []))
        }
        let kubeconfig = lab.directory.appendingPathComponent("kubeconfig").path
        try pki.kubeconfig(server: server.url).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let modeFlags = mode == "nftables" ? "--proxy-mode nftables" : "--proxy-mode iptables --iptables-backend \(mode.dropFirst("iptables-".count))"
        let flags = "--kubeconfig '\(kubeconfig)' \(modeFlags) --iptables-min-sync-period 100ms --iptables-sync-period 2s"
            + " --metrics-bind-address 127.0.0.1:10249 --healthz-bind-address 198.18.2.1:10256"
        let faultBin = try Self.restoreWrappers(in: lab.directory)
        try lab.startProxy(flags: flags, path: faultBin.path)
        let rssStart = lab.proxyRSS ?? 0

        // Churn runs on its own task at the configured rate until the end.
        let clock = ContinuousClock(), start = clock.now, end = start + .seconds(Self.seconds)
        let churn = Task {
            var random = RandomCluster.Generator(seed: 7)
            var changes = 0
            while clock.now < end {
                Self.change(server, &random)
                changes += 1
                try? await Task.sleep(for: .seconds(1 / Self.rate))
            }
            return changes
        }
        // Faults on a schedule (fractions of the run); the flush's repair window is its own class.
        // The API server refuses for 10 s (less in a short soak), over before the restart.
        let refusal = min(10, 0.15 * Self.seconds)
        let faults: [(at: Double, name: String)] = [(0.1, "watch dropped mid-event"), (0.2, "410 Gone"), (0.3, "API server refusing"),
                                                    (0.55, "kill -9 and restart"), (0.65, "failing restore"), (0.7, "hanging restore"),
                                                    (0.8, "external flush")].filter { mode != "nftables" || !$0.name.hasSuffix("restore") }
        var nextFault = 0, apiBackAt: ContinuousClock.Instant?, hangEndsAt: ContinuousClock.Instant?, flushAt: ContinuousClock.Instant?, repairedAfter: Duration?, rssRestart = 0
        var tally = Tally(), answeredSinceFlush = Set<String>(), diagnoses: [String] = []
        var round = 0
        while clock.now < end {
            let elapsed = Double((clock.now - start).components.seconds)
            if nextFault < faults.count, elapsed >= faults[nextFault].at * Self.seconds {
                switch faults[nextFault].name {
                case "watch dropped mid-event": server.dropWatches(midEvent: true)
                case "410 Gone": server.compact(); server.dropWatches()
                case "API server refusing": server.setTokens(["nobody"]); server.dropWatches(); apiBackAt = clock.now + .seconds(refusal)
                case "kill -9 and restart":
                    lab.killProxy()
                    try lab.startProxy(flags: flags, path: faultBin.path)
                    rssRestart = lab.proxyRSS ?? 0
                case "failing restore": _ = FileManager.default.createFile(atPath: faultBin.appendingPathComponent("fail").path, contents: nil)
                case "hanging restore":
                    _ = FileManager.default.createFile(atPath: faultBin.appendingPathComponent("hang").path, contents: nil)
                    hangEndsAt = clock.now + .seconds(5)
                default:
                    _ = lab.inNamespace("node", mode == "nftables" ? "nft flush table ip kube-proxy" : "\(mode) -t nat -F")
                    flushAt = clock.now
                }
                nextFault += 1
            }
            if let back = apiBackAt, clock.now >= back { server.setTokens(nil); apiBackAt = nil }
            if let ends = hangEndsAt, clock.now >= ends { try? FileManager.default.removeItem(at: faultBin.appendingPathComponent("hang")); hangEndsAt = nil }
            let i = round % (Self.tcpServices + Self.udpServices)
            let udp = i >= Self.tcpServices
            let (service, ip, port) = udp ? ("soak-u\(i - Self.tcpServices)", "198.18.11.\(20 + i - Self.tcpServices)", 53) : ("soak-t\(i)", "198.18.11.\(i)", 80)
            // After the flush, a Service's failures are the flush's until it answers again (at
            // most 15 s); repairedAfter is when every probed Service has.
            let during = flushAt.flatMap { at in !answeredSinceFlush.contains(service) && clock.now < at + .seconds(15) ? "external flush" : nil }
            for outcome in lab.probe(from: "client", dst: ip, port: port, count: 2, udp: udp, timeout: 1000) {
                tally.record(outcome, service: service, during: during)
                if during == nil, !Self.pods.values.contains(outcome), diagnoses.count < 5 {
                    let phase = nextFault > 0 ? faults[nextFault - 1].name : "before the first fault"
                    diagnoses.append(Self.diagnose(lab, mode: mode, service: service, ip: ip, outcome: outcome,
                                                   at: Double((clock.now - start) / .milliseconds(1)) / 1000, phase: phase))
                }
                if let at = flushAt, repairedAfter == nil, Self.pods.values.contains(outcome) {
                    answeredSinceFlush.insert(service)
                    if answeredSinceFlush.count == Self.tcpServices + Self.udpServices { repairedAfter = clock.now - at }
                }
            }
            round += 1
        }
        let changes = await churn.value
        server.setTokens(nil)
        let rssEnd = lab.proxyRSS ?? 0

        // Converged: what the API server holds now is what the kernel holds.
        try await Task.sleep(for: .seconds(1))
        let verify = lab.inNamespace("node", "'\(Lab.binary)' verify --config '\(Lab.root.appendingPathComponent("examples/config.yaml").path)' --kubeconfig '\(kubeconfig)' \(modeFlags)")
        let metrics = lab.inNamespace("node", "curl -s http://127.0.0.1:10249/metrics").output
        let syncs = lab.proxyLog.components(separatedBy: "sync done").count - 1
        let restoreFaults = (try? String(contentsOf: faultBin.appendingPathComponent("injected"), encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        let report = """
            soak \(mode): \(Int(Self.seconds)) s, \(changes) changes (\(Self.rate)/s), \(tally.tried) connections tried, \
            \(tally.unexpected) unexpected failures; failures by class: \(tally.failures.isEmpty ? "none" : "\(tally.failures)"); \
            the external flush repaired after \(repairedAfter.map { "\($0)" } ?? "?"); \
            restore faults injected: \(restoreFaults.isEmpty ? "none" : restoreFaults.joined(separator: ", ")); \
            syncs after the restart: \(syncs); network programming \(Self.quantiles(metrics)); RSS \(rssStart) KiB after the first sync, \
            \(rssRestart) KiB after the restart's, \(rssEnd) KiB at the end; \
            verify: \(verify.output.split(separator: "\n").last ?? "")
            """
        print(report)
        let diagnosis = diagnoses.joined(separator: "\n\n")
        try? (report + (diagnosis.isEmpty ? "" : "\n\n" + diagnosis)).write(to: Lab.root.appendingPathComponent("soak-\(mode).txt"), atomically: true, encoding: .utf8)
        if !diagnosis.isEmpty { print(diagnosis) }
        #expect(tally.unexpected == 0, "\(report); first failures: \(tally.samples)")
        #expect(tally.tried > 100)
        #expect(verify.status == 0, "\(verify.output)")
        #expect(repairedAfter != nil, "traffic came back after the external flush")
        if mode != "nftables" { #expect(Set(restoreFaults) == ["failed", "hung"], "both restore faults met a sync") }
        #expect(rssEnd <= max(rssStart, rssRestart) * 11 / 10, "RSS grows by at most 10%: \(rssStart), \(rssRestart) -> \(rssEnd) KiB")
        #expect(lab.stopProxy() == 0)
    }

    /// What the node held when a probe failed unexpectedly, taken at once: the proxy's log lines of
    /// the last 3 seconds, the Service's rules, and the conntrack entries to its address.
    static func diagnose(_ lab: Lab, mode: String, service: String, ip: String, outcome: String, at seconds: Double, phase: String) -> String {
        let formatter = ISO8601DateFormatter()
        // The log's stamps (`2026-12-02T11:48:16+0000`, whole seconds) sort as text.
        let stamp = DateFormatter()
        stamp.locale = Locale(identifier: "en_US_POSIX")
        stamp.timeZone = TimeZone(identifier: "UTC")
        stamp.dateFormat = "yyyy-MM-dd'T'HH:mm:ssZ"
        let since = stamp.string(from: Date().addingTimeInterval(-4))
        let recent = lab.proxyLog.split(separator: "\n").filter { $0.prefix(24) >= since }
        let rules = mode == "nftables"
            ? lab.inNamespace("node", "nft list table ip kube-proxy").output.split(separator: "\n").filter { $0.contains(ip) || $0.contains(service) }
            : lab.inNamespace("node", "\(mode)-save -t nat").output.split(separator: "\n").filter { $0.contains(ip) || $0.contains(service) }
        let conntrack = lab.inNamespace("node", "conntrack -L -d \(ip) 2>&1").output
        return """
            SOAK-DIAG \(service) (\(ip)) \(outcome) at \(String(format: "%.3f", seconds)) s, after: \(phase); wall clock \(formatter.string(from: Date()))
            proxy log (last 3 s):
            \(recent.joined(separator: "\n"))
            rules naming it:
            \(rules.joined(separator: "\n"))
            conntrack to it:
            \(conntrack)
            """
    }

    /// `iptables-{legacy,nft}-restore` wrappers in `directory/fault-bin`: a file `fail` there makes
    /// the next restore fail (once), a file `hang` makes restores wait while it exists (at most
    /// 10 s); each fault met is appended to `injected`.
    static func restoreWrappers(in directory: URL) throws -> URL {
        let bin = directory.appendingPathComponent("fault-bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for tool in ["iptables-legacy-restore", "iptables-nft-restore"] {
            let real = Lab.shell("command -v \(tool)").output.trimmingCharacters(in: .whitespacesAndNewlines)
            let script = """
                #!/bin/bash
                dir='\(bin.path)'
                if rm "$dir/fail" 2>/dev/null; then echo failed >>"$dir/injected"; cat >/dev/null; echo "injected failure" >&2; exit 1; fi
                if [ -e "$dir/hang" ]; then
                  echo hung >>"$dir/injected"
                  for _ in $(seq 100); do [ -e "$dir/hang" ] || break; sleep 0.1; done
                fi
                exec '\(real)' "$@"
                """
            let path = bin.appendingPathComponent(tool).path
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
        return bin
    }

    /// p50 and p99 of the IPv4 `kubeproxy_network_programming_duration_seconds`, as bucket bounds.
    static func quantiles(_ metrics: String) -> String {
        let buckets = metrics.split(separator: "\n").filter { $0.hasPrefix("kubeproxy_network_programming_duration_seconds_bucket{ip_family=\"IPv4\"") }
            .compactMap { line -> (Double, Double)? in
                guard let le = line.components(separatedBy: "le=\"").dropFirst().first?.prefix(while: { $0 != "\"" }),
                      let count = Double(line.split(separator: " ").last ?? "") else { return nil }
                return (le == "+Inf" ? .infinity : Double(le) ?? .infinity, count)
            }.sorted { $0.0 < $1.0 }
        guard let total = buckets.last?.1, total > 0 else { return "(no samples)" }
        func bound(_ q: Double) -> String { buckets.first { $0.1 >= q * total }.map { "≤ \($0.0) s" } ?? "?" }
        return "p50 \(bound(0.5)), p99 \(bound(0.99)) (\(Int(total)) samples)"
    }
}
