import Foundation
import KubeProxyModel
import Metrics
import Synchronization

/// kube-proxy's metrics, with upstream's names, help texts, buckets and labels (`ip_family` where
/// upstream 1.33 has it: ``family(_:)``), recorded through swift-metrics into one registry that
/// `/metrics` renders.
public final class ProxyMetrics: Sendable {
    /// Writes into the registry ``render()`` reads; `run` bootstraps swift-metrics with it.
    public let factory: ProxyMetricsFactory
    let endpointChangesPending, serviceChangesPending: Gauge
    let endpointChangesTotal, serviceChangesTotal: Counter
    private let families = Mutex<[IPFamily: FamilyMetrics]>([:])
    private let triggers = MetricLevels()
    /// Trigger times before this are not observed (upstream's trackerStartTime: the initial list
    /// would otherwise report the age of every slice).
    public let startTime: Date

    public init(startTime: Date = Date(), factory: ProxyMetricsFactory = ProxyMetricsFactory()) {
        self.startTime = startTime
        self.factory = factory
        endpointChangesPending = Gauge(label: "kubeproxy_sync_proxy_rules_endpoint_changes_pending", factory: factory)
        endpointChangesTotal = Counter(label: "kubeproxy_sync_proxy_rules_endpoint_changes_total", factory: factory)
        serviceChangesPending = Gauge(label: "kubeproxy_sync_proxy_rules_service_changes_pending", factory: factory)
        serviceChangesTotal = Counter(label: "kubeproxy_sync_proxy_rules_service_changes_total", factory: factory)
    }

    /// The metrics of one IP family's proxier (made on first use: a single-stack node shows one family).
    public func family(_ family: IPFamily) -> FamilyMetrics {
        families.withLock { all in
            if let existing = all[family] { return existing }
            let made = FamilyMetrics(family: family, factory: factory)
            all[family] = made
            return made
        }
    }

    /// One `/healthz` or `/livez` answer with status `code`.
    public func probed(livez: Bool, code: Int) {
        Counter(label: livez ? "kubeproxy_proxy_livez_total" : "kubeproxy_proxy_healthz_total", dimensions: [("code", String(code))], factory: factory)
            .increment()
    }

    /// The change trackers took `services` Service and `endpointSlices` EndpointSlice changes;
    /// `pending` of each: those not yet programmed (cleared by a successful sync).
    public func changesTaken(services: Int, endpointSlices: Int, pendingServices: Int, pendingEndpointSlices: Int) {
        if services > 0 { serviceChangesTotal.increment(by: Int64(services)) }
        if endpointSlices > 0 { endpointChangesTotal.increment(by: Int64(endpointSlices)) }
        serviceChangesPending.record(Double(pendingServices))
        endpointChangesPending.record(Double(pendingEndpointSlices))
    }

    /// Records, for each changed EndpointSlice (by `namespace/name`; nil: deleted) whose
    /// `endpoints.kubernetes.io/last-change-trigger-time` is new (and after ``startTime``), the
    /// time from that change to now in its family's `kubeproxy_network_programming_duration_seconds`:
    /// the rules for it are in the kernel.
    public func programmed(_ slices: [String: EndpointSlice?], at now: Date = Date()) {
        for (key, slice) in slices {
            guard let slice else { triggers.forgetTrigger(slice: key); continue }
            guard let family = slice.addressType.flatMap(IPFamily.init(rawValue:)),
                  let text = slice.metadata.annotations?["endpoints.kubernetes.io/last-change-trigger-time"],
                  triggers.isNewTrigger(text, slice: slice.metadata.namespacedName),
                  let trigger = Self.rfc3339(text), trigger > startTime else { continue }
            let seconds = max(0, now.timeIntervalSince(trigger))
            self.family(family).networkProgramming.recordNanoseconds(Int64(seconds * 1e9))
        }
    }

    /// The text format `/metrics` serves.
    public func render() -> String { factory.registry.emitToString() }

    static func rfc3339(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }
}
