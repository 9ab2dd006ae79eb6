import Foundation
import KubeProxyModel
import KubeProxyRuntime
import Testing

/// `/metrics` as upstream 1.33 writes it: names, help texts, buckets, `ip_family` labels.
@Suite("Proxy metrics: upstream names, help, buckets and the ip_family label")
struct ProxyMetricsTests {
    static func lines(_ metrics: ProxyMetrics) -> [String] { metrics.render().split(separator: "\n").map(String.init) }

    @Test("a family's sync: help text, 1 ms × 2ⁿ buckets, ip_family before the other labels; one family only")
    func familySync() {
        let metrics = ProxyMetrics()
        var report = ProxierReport()
        report.iptablesNATTotal = 42
        report.restoreFailures = 2
        metrics.family(.ipv4).synced(SyncOutcome(full: true, duration: .milliseconds(3)), report: report)
        report.restoreFailures = 3
        metrics.family(.ipv4).synced(SyncOutcome(full: false, error: "refused", duration: .milliseconds(3)), report: report)
        let lines = Self.lines(metrics)
        #expect(lines.contains("# HELP kubeproxy_sync_proxy_rules_duration_seconds SyncProxyRules latency in seconds"))
        #expect(lines.contains(#"kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="0.004"} 1"#), "\(lines)")
        #expect(lines.contains(#"kubeproxy_sync_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="16.384"} 1"#))
        #expect(lines.contains(#"kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family="IPv4"} 1"#))
        #expect(lines.contains(#"kubeproxy_sync_proxy_rules_iptables_total{ip_family="IPv4",table="nat"} 42.0"#), "\(lines)")
        // Running totals become increments: 2, then 3, is 3 failures.
        #expect(lines.contains(#"kubeproxy_sync_proxy_rules_iptables_restore_failures_total{ip_family="IPv4"} 3"#))
        #expect(!lines.contains { $0.contains(#"ip_family="IPv6""#) })
    }

    @Test("network programming latency goes to the slice's family; a repeated trigger time counts once")
    func networkProgramming() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let metrics = ProxyMetrics(startTime: start)
        func slice(_ family: String, trigger: String) -> EndpointSlice {
            EndpointSlice(metadata: ObjectMeta(name: "s-\(family)", namespace: "ns", annotations: ["endpoints.kubernetes.io/last-change-trigger-time": trigger]),
                          addressType: family, ports: nil, endpoints: nil)
        }
        let v6 = slice("IPv6", trigger: "2027-01-15T08:00:02Z")
        metrics.programmed(["ns/s-IPv6": v6], at: start + 5)
        metrics.programmed(["ns/s-IPv6": v6], at: start + 9)
        let lines = Self.lines(metrics)
        #expect(lines.contains(#"kubeproxy_network_programming_duration_seconds_count{ip_family="IPv6"} 1"#), "\(lines)")
        #expect(lines.contains(#"kubeproxy_network_programming_duration_seconds_bucket{ip_family="IPv6",le="3.0"} 1"#))
        #expect(lines.contains("# HELP kubeproxy_network_programming_duration_seconds In Cluster Network Programming Latency in seconds"))
    }

    @Test("health probes and change counts have no family label")
    func unlabelled() {
        let metrics = ProxyMetrics()
        metrics.probed(livez: false, code: 200)
        metrics.probed(livez: false, code: 200)
        metrics.probed(livez: true, code: 503)
        metrics.changesTaken(services: 2, endpointSlices: 5, pendingServices: 2, pendingEndpointSlices: 1)
        let lines = Self.lines(metrics)
        #expect(lines.contains(#"kubeproxy_proxy_healthz_total{code="200"} 2"#), "\(lines)")
        #expect(lines.contains(#"kubeproxy_proxy_livez_total{code="503"} 1"#))
        #expect(lines.contains("kubeproxy_sync_proxy_rules_endpoint_changes_total 5"))
        #expect(lines.contains("kubeproxy_sync_proxy_rules_service_changes_pending 2.0"))
    }
}
