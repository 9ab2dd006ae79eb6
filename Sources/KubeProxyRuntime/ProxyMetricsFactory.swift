import CoreMetrics
import Foundation
import KubeProxyModel
import Prometheus

/// swift-metrics' factory for `/metrics`: a Prometheus registry that gives each metric upstream's
/// help text and buckets (``catalogue``; swift-prometheus' own factory writes neither). `run`
/// bootstraps it, so a library that records through swift-metrics lands on `/metrics` too.
public struct ProxyMetricsFactory: MetricsFactory {
    /// What upstream says about one metric besides its name.
    public struct Definition: Sendable {
        public var help: String
        /// A histogram's buckets (nil: Prometheus' defaults).
        public var buckets: [Duration]?
    }

    public let registry: PrometheusCollectorRegistry
    let catalogue: [String: Definition]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), catalogue: [String: Definition] = ProxyMetrics.catalogue) {
        self.registry = registry
        self.catalogue = catalogue
    }

    func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: catalogue[label]?.help ?? "")
    }

    /// `.005` to `10` seconds, Prometheus' default buckets.
    static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }
    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }
    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }
    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        let buckets = catalogue[label]?.buckets.map { $0.map(\.seconds) } ?? Self.defaultBuckets
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }
    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let buckets = catalogue[label]?.buckets ?? Self.defaultBuckets.map { .nanoseconds(Int64($0 * 1e9)) }
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }
    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }
    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }
    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
