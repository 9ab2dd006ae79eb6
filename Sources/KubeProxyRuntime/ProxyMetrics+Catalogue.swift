import Foundation

extension ProxyMetrics {
    /// `ExponentialBuckets(0.001, 2, 15)`: 1 ms to 16.4 s.
    static let syncBuckets: [Duration] = (0..<15).map { .nanoseconds(Int64(1_000_000 * pow(2.0, Double($0)))) }
    /// 0.25 s, 0.5 s, 1–59 s by 1, 60–115 s by 5, 120–300 s by 30 (upstream's merge of linear buckets).
    static let programmingBuckets: [Duration] = ([0.25, 0.5] + (1...59).map(Double.init) + stride(from: 60.0, through: 115, by: 5) + stride(from: 120.0, through: 300, by: 30))
        .map { .nanoseconds(Int64($0 * 1e9)) }

    /// Every metric's upstream help text (pkg/proxy/metrics) and, for histograms, its buckets.
    public static let catalogue: [String: ProxyMetricsFactory.Definition] = [
        "kubeproxy_sync_proxy_rules_duration_seconds": .init(help: "SyncProxyRules latency in seconds", buckets: syncBuckets),
        "kubeproxy_sync_full_proxy_rules_duration_seconds": .init(help: "SyncProxyRules latency in seconds for full resyncs", buckets: syncBuckets),
        "kubeproxy_sync_partial_proxy_rules_duration_seconds": .init(help: "SyncProxyRules latency in seconds for partial resyncs", buckets: syncBuckets),
        "kubeproxy_network_programming_duration_seconds": .init(help: "In Cluster Network Programming Latency in seconds", buckets: programmingBuckets),
        "kubeproxy_sync_proxy_rules_last_timestamp_seconds": .init(help: "The last time proxy rules were successfully synced"),
        "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds": .init(help: "The last time a sync of proxy rules was queued"),
        "kubeproxy_sync_proxy_rules_iptables_total": .init(help: "Total number of iptables rules owned by kube-proxy"),
        "kubeproxy_sync_proxy_rules_iptables_last": .init(help: "Number of iptables rules written by kube-proxy in last sync"),
        "kubeproxy_sync_proxy_rules_no_local_endpoints_total": .init(help: "Number of services with a Local traffic policy and no endpoints"),
        "kubeproxy_sync_proxy_rules_iptables_restore_failures_total": .init(help: "Cumulative proxy iptables restore failures"),
        "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total": .init(help: "Cumulative proxy iptables partial restore failures"),
        "kubeproxy_sync_proxy_rules_nftables_sync_failures_total": .init(help: "Cumulative proxy nftables sync failures"),
        "kubeproxy_sync_proxy_rules_endpoint_changes_pending": .init(help: "Pending proxy rules Endpoint changes"),
        "kubeproxy_sync_proxy_rules_endpoint_changes_total": .init(help: "Cumulative proxy rules Endpoint changes"),
        "kubeproxy_sync_proxy_rules_service_changes_pending": .init(help: "Pending proxy rules Service changes"),
        "kubeproxy_sync_proxy_rules_service_changes_total": .init(help: "Cumulative proxy rules Service changes"),
        "kubeproxy_proxy_healthz_total": .init(help: "Cumulative proxy healthz HTTP status"),
        "kubeproxy_proxy_livez_total": .init(help: "Cumulative proxy livez HTTP status"),
    ]
}
