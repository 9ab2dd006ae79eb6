import Foundation
import KubeProxyModel
import Metrics

/// One IP family's sync metrics, labelled `ip_family` as upstream's proxiers label theirs (1.33+).
public final class FamilyMetrics: Sendable {
    public let family: IPFamily
    let syncDuration, fullSyncDuration, partialSyncDuration, networkProgramming: CoreMetrics.Timer
    let lastTimestamp, lastQueuedTimestamp: Gauge
    let natTotal, natLast, filterTotal, filterLast, noLocalInternal, noLocalExternal: Gauge
    let restoreFailures, partialRestoreFailures, nftablesFailures: Counter
    private let levels = MetricLevels()

    init(family: IPFamily, factory: any MetricsFactory) {
        self.family = family
        let ipFamily = ("ip_family", family.rawValue)
        func timer(_ name: String) -> CoreMetrics.Timer { CoreMetrics.Timer(label: name, dimensions: [ipFamily], factory: factory) }
        func gauge(_ name: String, _ more: (String, String)...) -> Gauge { Gauge(label: name, dimensions: [ipFamily] + more, factory: factory) }
        func counter(_ name: String) -> Counter { Counter(label: name, dimensions: [ipFamily], factory: factory) }
        syncDuration = timer("kubeproxy_sync_proxy_rules_duration_seconds")
        fullSyncDuration = timer("kubeproxy_sync_full_proxy_rules_duration_seconds")
        partialSyncDuration = timer("kubeproxy_sync_partial_proxy_rules_duration_seconds")
        networkProgramming = timer("kubeproxy_network_programming_duration_seconds")
        lastTimestamp = gauge("kubeproxy_sync_proxy_rules_last_timestamp_seconds")
        lastQueuedTimestamp = gauge("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds")
        natTotal = gauge("kubeproxy_sync_proxy_rules_iptables_total", ("table", "nat"))
        filterTotal = gauge("kubeproxy_sync_proxy_rules_iptables_total", ("table", "filter"))
        natLast = gauge("kubeproxy_sync_proxy_rules_iptables_last", ("table", "nat"))
        filterLast = gauge("kubeproxy_sync_proxy_rules_iptables_last", ("table", "filter"))
        noLocalInternal = gauge("kubeproxy_sync_proxy_rules_no_local_endpoints_total", ("traffic_policy", "internal"))
        noLocalExternal = gauge("kubeproxy_sync_proxy_rules_no_local_endpoints_total", ("traffic_policy", "external"))
        restoreFailures = counter("kubeproxy_sync_proxy_rules_iptables_restore_failures_total")
        partialRestoreFailures = counter("kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total")
        nftablesFailures = counter("kubeproxy_sync_proxy_rules_nftables_sync_failures_total")
    }

    /// A change was queued for this family's next sync.
    public func queued(at now: Date = Date()) { lastQueuedTimestamp.record(now.timeIntervalSince1970) }

    /// Records one sync of this family and its proxier's counts after it.
    public func synced(_ outcome: SyncOutcome, report: ProxierReport, at now: Date = Date()) {
        if outcome.succeeded {
            syncDuration.record(duration: outcome.duration)
            (outcome.full ? fullSyncDuration : partialSyncDuration).record(duration: outcome.duration)
            lastTimestamp.record(now.timeIntervalSince1970)
        }
        if let v = report.iptablesNATTotal { natTotal.record(Double(v)) }
        if let v = report.iptablesNATLast { natLast.record(Double(v)) }
        if let v = report.iptablesFilterTotal { filterTotal.record(Double(v)); filterLast.record(Double(v)) }
        if let v = report.restoreFailures { levels.advance(restoreFailures, key: "restore", to: v) }
        if let v = report.partialRestoreFailures { levels.advance(partialRestoreFailures, key: "partial", to: v) }
        if let v = report.nftablesSyncFailures { levels.advance(nftablesFailures, key: "nft", to: v) }
        noLocalInternal.record(Double(report.noLocalEndpointsInternal))
        noLocalExternal.record(Double(report.noLocalEndpointsExternal))
    }
}
