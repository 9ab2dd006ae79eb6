import IPTablesRules
import KubeProxyCore

/// The proxier's counters and gauges, named after upstream's `kubeproxy_*` metrics.
public struct IPTablesProxierMetrics: Hashable, Sendable {
    /// `kubeproxy_sync_proxy_rules_iptables_restore_failures_total`
    public var restoreFailures = 0
    /// `kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total`
    public var partialRestoreFailures = 0
    /// `kubeproxy_sync_proxy_rules_iptables_total{table="nat"}`
    public var natRulesTotal = 0
    /// `kubeproxy_sync_proxy_rules_iptables_last{table="nat"}`
    public var natRulesLast = 0
    /// `kubeproxy_sync_proxy_rules_iptables_total{table="filter"}`
    public var filterRulesTotal = 0
    /// `kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy="internal"}`
    public var noLocalEndpointsInternal = 0
    /// `kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy="external"}`
    public var noLocalEndpointsExternal = 0

    mutating func record(_ plan: IPTablesSyncPlan) {
        natRulesTotal = plan.natRuleTotal
        natRulesLast = plan.natRulesWritten
        filterRulesTotal = plan.filterRuleCount
        noLocalEndpointsInternal = plan.noLocalEndpointsInternal
        noLocalEndpointsExternal = plan.noLocalEndpointsExternal
    }
}
