/// What a proxier reports after a sync for the metrics endpoint (fields a mode lacks stay nil).
public struct ProxierReport: Sendable, Hashable {
    /// `kubeproxy_sync_proxy_rules_iptables_total{table}` and `_last{table}` (iptables mode).
    public var iptablesNATTotal: Int?
    public var iptablesNATLast: Int?
    public var iptablesFilterTotal: Int?
    /// `kubeproxy_sync_proxy_rules_iptables_restore_failures_total` / `_partial_restore_failures_total`.
    public var restoreFailures: Int?
    public var partialRestoreFailures: Int?
    /// `kubeproxy_sync_proxy_rules_nftables_sync_failures_total` (nftables mode).
    public var nftablesSyncFailures: Int?
    /// `kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy}`.
    public var noLocalEndpointsInternal = 0
    public var noLocalEndpointsExternal = 0

    public init() {}
}
