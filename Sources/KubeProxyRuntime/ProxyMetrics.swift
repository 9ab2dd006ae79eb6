import Foundation
import KubeProxyModel
import Prometheus
import Synchronization

/// kube-proxy's Prometheus metrics, with upstream's names and buckets, in one registry that
/// `/metrics` renders.
public final class ProxyMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let syncDuration, fullSyncDuration, partialSyncDuration, networkProgramming: DurationHistogram
    let lastTimestamp, lastQueuedTimestamp: Gauge
    let natTotal, natLast, filterTotal, filterLast, noLocalInternal, noLocalExternal: Gauge
    let restoreFailures, partialRestoreFailures, nftablesFailures: Counter
    let endpointChangesPending, serviceChangesPending: Gauge
    let endpointChangesTotal, serviceChangesTotal: Counter
    private let seen = MetricLevels()
    /// Trigger times before this are not observed (upstream's trackerStartTime: the initial list
    /// would otherwise report the age of every slice).
    public let startTime: Date

    /// `ExponentialBuckets(0.001, 2, 15)`: 1 ms to 16.4 s.
    static let syncBuckets: [Duration] = (0..<15).map { .nanoseconds(Int64(1_000_000 * pow(2.0, Double($0)))) }
    /// 0.25 s, 0.5 s, 1–59 s by 1, 60–115 s by 5, 120–300 s by 30 (upstream's merge of linear buckets).
    static let programmingBuckets: [Duration] = ([0.25, 0.5] + (1...59).map(Double.init) + stride(from: 60.0, through: 115, by: 5) + stride(from: 120.0, through: 300, by: 30))
        .map { .nanoseconds(Int64($0 * 1e9)) }

    /// `/healthz` and `/livez` answers by status code.
    static var healthzTotal: MetricNameDescriptor { named("kubeproxy_proxy_healthz_total", help: "Cumulative proxy healthz HTTP status") }
    static var livezTotal: MetricNameDescriptor { named("kubeproxy_proxy_livez_total", help: "Cumulative proxy livez HTTP status") }

    /// Upstream's full metric name and help text (no namespace, subsystem or unit suffix added).
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    public init(startTime: Date = Date()) {
        self.startTime = startTime
        syncDuration = registry.makeDurationHistogram(descriptor: Self.named("kubeproxy_sync_proxy_rules_duration_seconds", help: "SyncProxyRules latency in seconds"), buckets: Self.syncBuckets)
        fullSyncDuration = registry.makeDurationHistogram(descriptor: Self.named("kubeproxy_sync_full_proxy_rules_duration_seconds", help: "SyncProxyRules latency in seconds for full resyncs"), buckets: Self.syncBuckets)
        partialSyncDuration = registry.makeDurationHistogram(descriptor: Self.named("kubeproxy_sync_partial_proxy_rules_duration_seconds", help: "SyncProxyRules latency in seconds for partial resyncs"), buckets: Self.syncBuckets)
        networkProgramming = registry.makeDurationHistogram(descriptor: Self.named("kubeproxy_network_programming_duration_seconds", help: "In Cluster Network Programming Latency in seconds"), buckets: Self.programmingBuckets)
        lastTimestamp = registry.makeGauge(descriptor: Self.named("kubeproxy_sync_proxy_rules_last_timestamp_seconds", help: "The last time proxy rules were successfully synced"))
        lastQueuedTimestamp = registry.makeGauge(descriptor: Self.named("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds", help: "The last time a sync of proxy rules was queued"))
        natTotal = registry.makeGauge(descriptor: Self.named("kubeproxy_sync_proxy_rules_iptables_total", help: "Total number of iptables rules owned by kube-proxy"), labels: [("table", "nat")])
        filterTotal = registry.makeGauge(descriptor: Self.named("kubeproxy_sync_proxy_rules_iptables_total", help: "Total number of iptables rules owned by kube-proxy"), labels: [("table", "filter")])
        natLast = registry.makeGauge(descriptor: Self.named("kubeproxy_sync_proxy_rules_iptables_last", help: "Number of iptables rules written by kube-proxy in last sync"), labels: [("table", "nat")])
        filterLast = registry.makeGauge(descriptor: Self.named("kubeproxy_sync_proxy_rules_iptables_last", help: "Number of iptables rules written by kube-proxy in last sync"), labels: [("table", "filter")])
        noLocalInternal = registry.makeGauge(descriptor: Self.named("kubeproxy_sync_proxy_rules_no_local_endpoints_total", help: "Number of services with a Local traffic policy and no endpoints"), labels: [("traffic_policy", "internal")])
        noLocalExternal = registry.makeGauge(descriptor: Self.named("kubeproxy_sync_proxy_rules_no_local_endpoints_total", help: "Number of services with a Local traffic policy and no endpoints"), labels: [("traffic_policy", "external")])
        restoreFailures = registry.makeCounter(descriptor: Self.named("kubeproxy_sync_proxy_rules_iptables_restore_failures_total", help: "Cumulative proxy iptables restore failures"))
        partialRestoreFailures = registry.makeCounter(descriptor: Self.named("kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total", help: "Cumulative proxy iptables partial restore failures"))
        nftablesFailures = registry.makeCounter(descriptor: Self.named("kubeproxy_sync_proxy_rules_nftables_sync_failures_total", help: "Cumulative proxy nftables sync failures"))
        endpointChangesPending = registry.makeGauge(descriptor: Self.named("kubeproxy_sync_proxy_rules_endpoint_changes_pending", help: "Pending proxy rules Endpoint changes"))
        endpointChangesTotal = registry.makeCounter(descriptor: Self.named("kubeproxy_sync_proxy_rules_endpoint_changes_total", help: "Cumulative proxy rules Endpoint changes"))
        serviceChangesPending = registry.makeGauge(descriptor: Self.named("kubeproxy_sync_proxy_rules_service_changes_pending", help: "Pending proxy rules Service changes"))
        serviceChangesTotal = registry.makeCounter(descriptor: Self.named("kubeproxy_sync_proxy_rules_service_changes_total", help: "Cumulative proxy rules Service changes"))
    }

    /// The change trackers took `services` Service and `endpointSlices` EndpointSlice changes;
    /// `pending` of each: those not yet programmed (cleared by a successful sync).
    public func changesTaken(services: Int, endpointSlices: Int, pendingServices: Int, pendingEndpointSlices: Int) {
        if services > 0 { serviceChangesTotal.increment(by: Int64(services)) }
        if endpointSlices > 0 { endpointChangesTotal.increment(by: Int64(endpointSlices)) }
        serviceChangesPending.set(Double(pendingServices))
        endpointChangesPending.set(Double(pendingEndpointSlices))
    }

    /// A change was queued for the next sync.
    public func queued(at now: Date = Date()) { lastQueuedTimestamp.set(now.timeIntervalSince1970) }

    /// Records one sync and the proxier's counts after it.
    public func synced(_ outcome: SyncOutcome, report: ProxierReport, at now: Date = Date()) {
        if outcome.succeeded {
            syncDuration.record(outcome.duration)
            (outcome.full ? fullSyncDuration : partialSyncDuration).record(outcome.duration)
            lastTimestamp.set(now.timeIntervalSince1970)
        }
        if let v = report.iptablesNATTotal { natTotal.set(Double(v)) }
        if let v = report.iptablesNATLast { natLast.set(Double(v)) }
        if let v = report.iptablesFilterTotal { filterTotal.set(Double(v)); filterLast.set(Double(v)) }
        if let v = report.restoreFailures { seen.advance(restoreFailures, key: "restore", to: v) }
        if let v = report.partialRestoreFailures { seen.advance(partialRestoreFailures, key: "partial", to: v) }
        if let v = report.nftablesSyncFailures { seen.advance(nftablesFailures, key: "nft", to: v) }
        noLocalInternal.set(Double(report.noLocalEndpointsInternal))
        noLocalExternal.set(Double(report.noLocalEndpointsExternal))
    }

    /// Records, for each changed EndpointSlice (by `namespace/name`; nil: deleted) whose
    /// `endpoints.kubernetes.io/last-change-trigger-time` is new (and after ``startTime``), the
    /// time from that change to now: the rules for it are in the kernel.
    public func programmed(_ slices: [String: EndpointSlice?], at now: Date = Date()) {
        for (key, slice) in slices {
            guard let slice else { seen.forgetTrigger(slice: key); continue }
            guard let text = slice.metadata.annotations?["endpoints.kubernetes.io/last-change-trigger-time"],
                  seen.isNewTrigger(text, slice: slice.metadata.namespacedName),
                  let trigger = Self.rfc3339(text), trigger > startTime else { continue }
            let seconds = max(0, now.timeIntervalSince(trigger))
            networkProgramming.record(.nanoseconds(Int64(seconds * 1e9)))
        }
    }

    /// The text format `/metrics` serves.
    public func render() -> String { registry.emitToString() }

    static func rfc3339(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }
}

/// Remembers counter levels (to turn a proxier's running totals into increments) and which
/// trigger times were already observed.
final class MetricLevels: Sendable {
    private struct State { var levels: [String: Int] = [:]; var triggers: [String: String] = [:] }
    private let state = Mutex(State())

    func advance(_ counter: Counter, key: String, to level: Int) {
        let delta = state.withLock { s -> Int in
            let d = level - (s.levels[key] ?? 0)
            s.levels[key] = level
            return d
        }
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }

    /// Whether `trigger` differs from the last one seen for `slice` (and remembers it).
    func isNewTrigger(_ trigger: String, slice: String) -> Bool {
        state.withLock { s in
            if s.triggers[slice] == trigger { return false }
            s.triggers[slice] = trigger
            return true
        }
    }

    /// Forgets a slice that is gone.
    func forgetTrigger(slice: String) { state.withLock { s in s.triggers[slice] = nil } }
}
