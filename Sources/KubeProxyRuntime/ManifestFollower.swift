import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging

/// Runs a proxier against a source of objects (manifest files, an API server) until cancelled:
/// a sync at start, then one whenever the objects change, at most once per `minSyncPeriod`, and at least once per
/// `syncPeriod` (upstream's bounded-frequency runner). A sync that fails is retried after `syncPeriod`.
public struct ManifestFollower: Sendable {
    public let source: any ManifestProvider
    public let config: KubeProxyConfiguration
    /// Makes the proxier once the first inputs are known (its options depend on them).
    public let makeProxier: @Sendable (ProxierInputs) -> any Proxier
    public let features: KernelFeatures
    public let logger: Logger
    /// Conversions of unchanged Services and EndpointSlices, kept across syncs.
    let memo = ConversionMemo()
    /// Upstream's FullSyncPeriod: a full resync at least this often.
    public var fullSyncPeriod: Duration = .seconds(3600)
    /// How often the source is checked for changes.
    public var pollInterval: Duration = .milliseconds(100)
    /// Told of queued changes and finished syncs (`/healthz`), when set.
    public var health: ProxierHealth?
    /// Told of every sync (`/metrics`), when set.
    public var metrics: ProxyMetrics?
    /// The health-check ports of eTP=Local Services, updated after every successful sync, when set.
    public var serviceHealth: ServiceHealthServers?

    public init(source: any ManifestProvider, config: KubeProxyConfiguration, features: KernelFeatures, logger: Logger,
                makeProxier: @escaping @Sendable (ProxierInputs) -> any Proxier) {
        self.source = source
        self.config = config
        self.features = features
        self.logger = logger
        self.makeProxier = makeProxier
    }

    /// Loads the current inputs, logging every object that had to be skipped.
    func inputs() throws -> ProxierInputs { try load().inputs }

    func load() throws -> (inputs: ProxierInputs, manifests: Manifests) {
        let manifests = try source.load()
        for problem in manifests.problems { logger.warning("skipping manifest document", metadata: ["problem": "\(problem)"]) }
        let inputs = ProxierInputs(config: config, manifests: manifests, hostname: HostFacts.hostname(),
                                   hostAddresses: HostFacts.interfaceAddresses(), features: features, memo: memo)
        for skipped in inputs.skipped { logger.warning("skipping object", metadata: ["object": "\(skipped.object)", "field": "\(skipped.field)", "reason": "\(skipped.reason)"]) }
        return (inputs, manifests)
    }

    /// Runs until the task is cancelled; the rules stay in place afterwards.
    public func run() async throws {
        let clock = ContinuousClock()
        var first: ProxierInputs?
        var lastNotReady = ""
        var notReadyRetry: ContinuousClock.Instant?
        while first == nil {
            do { first = try inputs() } catch let notReady as ManifestNotReady {
                // Nothing programmed yet by us (or a previous run's rules): wait for a usable picture.
                if notReady.description != lastNotReady { logger.warning("waiting for the manifests: \(notReady)") }
                lastNotReady = notReady.description
                try await Task.sleep(for: pollInterval)
            }
        }
        guard let first else { return }
        if first.options.localhostNodePorts && first.state.family == .ipv4 && config.resolvedMode == "iptables" {
            do { try HostFacts.setSysctl("net/ipv4/conf/all/route_localnet", "1") } catch {
                logger.warning("cannot set route_localnet; localhost NodePorts will not work", metadata: ["error": "\(error)"])
            }
        }
        let proxier = makeProxier(first)
        logger.info("following", metadata: [
            "node": "\(first.node.name)", "family": "\(first.state.family.rawValue)", "source": "\(source.description)",
            "minSyncPeriod": "\(config.resolvedMinSyncPeriod)", "syncPeriod": "\(config.resolvedSyncPeriod)",
        ])
        let minSync = config.resolvedMinSyncPeriod.duration
        let maxSync = config.resolvedSyncPeriod.duration
        var lastSync: ContinuousClock.Instant?
        var lastFull = clock.now
        var lastCanaryCheck = clock.now
        var seen: [String] = []
        var pending = true
        while !Task.isCancelled {
            let fingerprint = source.fingerprint()
            if fingerprint != seen && !pending {
                pending = true
                health?.queued()
                metrics?.queued()
            }
            let now = clock.now
            if now - lastCanaryCheck >= maxSync {
                lastCanaryCheck = now
                if !(await proxier.checkIntegrity()) {
                    logger.warning("the integrity check failed (our rules were changed from outside); resyncing in full")
                    pending = true
                }
            }
            if now - lastFull >= fullSyncPeriod { await proxier.forceFullSync(); pending = true }
            let due = (pending || lastSync.map { now - $0 >= maxSync } ?? true) && notReadyRetry.map { now >= $0 } ?? true
            if due && lastSync.map({ now - $0 >= minSync }) ?? true {
                seen = fingerprint
                pending = false
                let previousSync = lastSync
                lastSync = now
                do {
                    let (inputs, manifests) = try load()
                    lastNotReady = ""
                    notReadyRetry = nil
                    let outcome = await proxier.sync(inputs.state)
                    if outcome.full && outcome.succeeded { lastFull = now }
                    if outcome.succeeded {
                        health?.updated()
                        health?.setNodeEligible(manifests.nodes.first { $0.metadata.name == inputs.node.name }?.metadata.deletionTimestamp == nil)
                        metrics?.programmed(manifests.endpointSlices)
                        await serviceHealth?.update(ServiceHealthServers.wanted(inputs.state))
                    }
                    metrics?.synced(outcome, report: await proxier.report())
                } catch let notReady as ManifestNotReady {
                    // Empty, half-written or holding no object: keep the rules, read again shortly.
                    // A file still being written is read again at the next poll; one that stays
                    // not ready, once a second.
                    let again = notReady.description == lastNotReady
                    if !again { logger.warning("keeping the rules in place: \(notReady)") }
                    notReadyRetry = again ? now + .seconds(1) : nil
                    lastNotReady = notReady.description
                    pending = true
                    lastSync = previousSync
                } catch {
                    // The files could not be read at all: keep what is programmed and try again.
                    logger.error("cannot read manifests; keeping the rules in place", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: pollInterval)
        }
    }
}
