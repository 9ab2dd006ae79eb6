import Foundation
import KubeProxyTesting
import Testing

/// The real binary in the lab's node namespace following the test API server (TLS with a client
/// certificate, listening in the lab's `ext` namespace at 198.18.2.2:6443): connections follow the
/// API changes, and /healthz and /metrics answer with the right values.
@Suite("Kernel: run --kubeconfig against an API server", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct DaemonKernelTests {
    static let pods: Set<String> = ["pod1", "pod2", "pod3"]

    static func path(of document: [String: Any]) -> String? {
        switch document["kind"] as? String {
        case "Service": "/api/v1/services"
        case "EndpointSlice": "/apis/discovery.k8s.io/v1/endpointslices"
        case "Node": "/api/v1/nodes"
        default: nil
        }
    }

    static func rfc3339(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    @Test("connections follow the API server; health and metrics report the syncs", arguments: ["nftables", "iptables"])
    func followsAPIServer(mode: String) async throws {
        let lab = try Lab(prefix: mode == "nftables" ? "kda" : "kdb")
        defer { lab.tearDown() }
        let pki = try TestCertificates(ips: ["198.18.2.2"])
        let server = try await TestAPIServer(host: "198.18.2.2", port: 6443, namespace: "\(lab.prefix)ext",
                                             tls: try pki.serverContext(requireClientCertificate: true))
        defer { server.stop() }
        let documents = try Lab.exampleDocuments()
        for document in documents { if let path = Self.path(of: document) { server.apply(path, document) } }
        let kubeconfig = lab.directory.appendingPathComponent("kubeconfig").path
        try pki.kubeconfig(server: server.url).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        try lab.startProxy(flags: "--kubeconfig '\(kubeconfig)' --proxy-mode \(mode) --iptables-backend nft --iptables-min-sync-period 100ms"
                           + " --healthz-bind-address 198.18.2.1:10256 --metrics-bind-address 127.0.0.1:10249")

        // The cluster as listed: every ready endpoint of web answers; no endpoints is refused.
        #expect(Set(lab.probe(from: "client", dst: "198.18.10.10", port: 80, count: 40)) == Self.pods)
        #expect(lab.probe(from: "client", dst: "198.18.10.18", port: 80, timeout: 4000) == ["refused"])

        // The health check of the eTP=Local LoadBalancer Service: one local endpoint (pod1) -> 200.
        let hc = lab.inNamespace("ext", "curl -s -i --max-time 3 http://198.18.2.1:30182/").output
        #expect(hc.contains("200 OK") && hc.contains("X-Load-Balancing-Endpoint-Weight: 1") && hc.contains("\"localEndpoints\": 1"), "\(hc)")
        #expect(hc.contains("\"namespace\": \"demo\"") && hc.contains("\"name\": \"local\""), "\(hc)")

        // A watch event: web's slice keeps only pod2 (with a trigger time, for the programming-latency metric).
        var web = try #require(documents.first { ($0["metadata"] as? [String: Any])?["name"] as? String == "web-1" })
        let endpoints = try #require(web["endpoints"] as? [[String: Any]])
        web["endpoints"] = endpoints.filter { ($0["addresses"] as? [String])?.first == "198.18.1.6" }
        var meta = web["metadata"] as? [String: Any] ?? [:]
        meta["annotations"] = ["endpoints.kubernetes.io/last-change-trigger-time": Self.rfc3339(Date().addingTimeInterval(1))]
        web["metadata"] = meta
        server.apply("/apis/discovery.k8s.io/v1/endpointslices", web)
        try lab.waitFor("web to reach pod2 only", seconds: 30) {
            lab.probe(from: "client", dst: "198.18.10.10", port: 80, count: 10) == Array(repeating: "pod2", count: 10)
        }

        // A new Service while running, then its removal.
        server.apply("/api/v1/services", ["apiVersion": "v1", "kind": "Service",
                                          "metadata": ["name": "late", "namespace": "default"],
                                          "spec": ["clusterIP": "198.18.10.40", "ports": [["name": "http", "port": 80, "protocol": "TCP"]]]])
        server.apply("/apis/discovery.k8s.io/v1/endpointslices", [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": ["name": "late-1", "namespace": "default", "labels": ["kubernetes.io/service-name": "late"]],
            "ports": [["name": "http", "port": 8080, "protocol": "TCP"]],
            "endpoints": [["addresses": ["198.18.1.10"], "conditions": ["ready": true]]]])
        try lab.waitFor("the new Service", seconds: 30) { lab.probe(from: "client", dst: "198.18.10.40", port: 80) == ["pod3"] }

        // A dropped watch stream: the proxy reconnects and keeps following.
        server.dropWatches(midEvent: true)
        server.delete("/api/v1/services", namespace: "default", name: "late")
        try lab.waitFor("the removed Service to stop answering", seconds: 30) {
            lab.probe(from: "client", dst: "198.18.10.40", port: 80, timeout: 300) != ["pod3"]
        }

        // local loses its endpoint on this node: its health check turns 503 with 0 local endpoints.
        var local = try #require(documents.first { ($0["metadata"] as? [String: Any])?["name"] as? String == "local-1" })
        local["endpoints"] = (local["endpoints"] as? [[String: Any]] ?? []).filter { $0["nodeName"] as? String != "lab-node" }
        server.apply("/apis/discovery.k8s.io/v1/endpointslices", local)
        try lab.waitFor("the health check to report no local endpoint", seconds: 30) {
            lab.inNamespace("ext", "curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://198.18.2.1:30182/").output == "503"
        }
        #expect(lab.inNamespace("ext", "curl -s --max-time 2 http://198.18.2.1:30182/").output.contains("\"localEndpoints\": 0"))

        // /healthz on the node address: 200 with upstream's JSON; /livez too.
        let healthz = lab.inNamespace("client", "curl -s -i --max-time 3 http://198.18.2.1:10256/healthz").output
        #expect(healthz.contains("200 OK") && healthz.contains("\"nodeEligible\": true") && healthz.contains("\"lastUpdated\": \"20"), "\(healthz)")
        #expect(lab.inNamespace("node", "curl -s -o /dev/null -w '%{http_code}' http://198.18.2.1:10256/livez").output == "200")
        // /metrics on the node's loopback only.
        let metrics = lab.inNamespace("node", "curl -s --max-time 3 http://127.0.0.1:10249/metrics").output
        func value(_ name: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        #expect((value("kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family=\"IPv4\"}") ?? 0) >= 4, "\(metrics.prefix(3000))")
        #expect((value("kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family=\"IPv4\"}") ?? 0) >= 1)
        #expect((value("kubeproxy_sync_partial_proxy_rules_duration_seconds_count{ip_family=\"IPv4\"}") ?? 0) >= 3)
        #expect((value("kubeproxy_network_programming_duration_seconds_count{ip_family=\"IPv4\"}") ?? 0) == 1)
        #expect((value("kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family=\"IPv4\"}") ?? 0) > Date().timeIntervalSince1970 - 60)
        #expect(metrics.contains("kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family=\"IPv4\",le=\"0.001\"}"))
        #expect(!metrics.contains("ip_family=\"IPv6\""), "a single-stack node shows one family")
        // The change trackers' counts: the first list, the late Service added and deleted, slice edits; none pending at rest.
        #expect((value("kubeproxy_sync_proxy_rules_service_changes_total") ?? 0) >= 2, "\(metrics.prefix(3000))")
        #expect((value("kubeproxy_sync_proxy_rules_endpoint_changes_total") ?? 0) >= 3)
        #expect(value("kubeproxy_sync_proxy_rules_service_changes_pending") == 0 && value("kubeproxy_sync_proxy_rules_endpoint_changes_pending") == 0)
        if mode == "iptables" { #expect((value("kubeproxy_sync_proxy_rules_iptables_total{ip_family=\"IPv4\",table=\"nat\"}") ?? 0) > 20) }
        #expect(lab.inNamespace("client", "curl -s --max-time 2 http://198.18.2.1:10249/metrics").status != 0, "metrics must not be on the node address")

        #expect(lab.stopProxy() == 0)
        #expect(lab.proxyLog.contains("list/watch failed; retrying") || lab.proxyLog.contains("retrying"), "the dropped stream was noticed")
    }
}
