import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging
import ServiceLifecycle

/// Runs a proxier against a source of objects (manifest files, an API server) until cancelled:
/// a sync at start, then one whenever the objects change, at most once per `minSyncPeriod`, and at least once per
/// `syncPeriod` (upstream's bounded-frequency runner). A sync that fails is retried after `syncPeriod`.
/// Each sync takes the source's changes into a ``ProxyStateTracker`` per family: the work from an
/// event to the kernel write is that of the objects changed, not of the cluster.
public struct ManifestFollower: ServiceLifecycle.Service {
    public let source: any ManifestProvider
    public let config: KubeProxyConfiguration
    /// Makes the proxier once the first inputs are known (its options depend on them).
    public let makeProxier: @Sendable (ProxierInputs) throws -> any Proxier
    public let features: KernelFeatures
    public let logger: Logger
    /// Upstream's FullSyncPeriod: a full resync at least this often.
    public var fullSyncPeriod: Duration = .seconds(3600)
    /// Whether a dual-stack node gets a proxier per family (false: the primary family only).
    public var dualStack = true
    /// Told of queued changes and finished syncs (`/healthz`), when set.
    public var health: ProxierHealth?
    /// Told of every sync (`/metrics`), when set.
    public var metrics: ProxyMetrics?
    /// The health-check ports of eTP=Local Services, updated after every successful sync, when set.
    public var serviceHealth: ServiceHealthServers?
    /// Awaited before anything else (e.g. the API source's first list), when set.
    public var waitUntilReady: (@Sendable () async throws -> Void)?

    public init(source: any ManifestProvider, config: KubeProxyConfiguration, features: KernelFeatures, logger: Logger,
                makeProxier: @escaping @Sendable (ProxierInputs) throws -> any Proxier) {
        self.source = source
        self.config = config
        self.features = features
        self.logger = logger
        self.makeProxier = makeProxier
    }

    /// The inputs of each family the node proxies (the primary first): the node's facts and each
    /// family's options, which the proxiers are made with.
    func load() throws -> [ProxierInputs] {
        ProxierInputs.all(config: config, manifests: try source.load(), hostname: HostFacts.hostname(),
                          hostAddresses: HostFacts.interfaceAddresses(), features: features)
    }

    /// Takes the source's changes into every family's tracker; logs the objects among them that
    /// had to be skipped (validation does not depend on the family: the primary's list names them
    /// all), and the source's skipped documents when they differ from the last ones logged.
    func take(into trackers: inout [ProxyStateTracker], problemsLogged: inout [ManifestProblem]) throws -> ManifestChanges {
        let changes = try source.changes()
        if changes.problems != problemsLogged {
            for problem in changes.problems { logger.warning("skipping manifest document", metadata: ["problem": "\(problem)"]) }
            problemsLogged = changes.problems
        }
        for index in trackers.indices {
            let skipped = trackers[index].apply(changes)
            guard index == 0 else { continue }
            for s in skipped { logger.warning("skipping object", metadata: ["object": "\(s.object)", "field": "\(s.field)", "reason": "\(s.reason)"]) }
        }
        return changes
    }

    /// Runs until the task is cancelled or the service group shuts down gracefully; the rules stay
    /// in place afterwards. Change-driven: it sleeps until the source signals a change or
    /// ``SyncSchedule`` has something due.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                if let waitUntilReady = self.waitUntilReady { try await waitUntilReady() }
                try await self.follow()
            }
        } catch is CancellationError {
            return
        }
    }

    func follow() async throws {
        let clock = ContinuousClock()
        let signal = ChangeSignal()
        let watch = try source.watch { signal.notify() }
        defer { watch.cancel() }
        var first: [ProxierInputs]?
        var lastNotReady = ""
        while first == nil {
            try Task.checkCancellation()
            do { first = try load() } catch let notReady as ManifestNotReady {
                // Nothing programmed yet by us (or a previous run's rules): wait for a usable picture.
                if notReady.description != lastNotReady { logger.warning("waiting for the manifests: \(notReady)") }
                lastNotReady = notReady.description
                await signal.wait(until: clock.now + .seconds(1), clock: clock)
            }
        }
        guard var firsts = first, let first = firsts.first else { return }
        if !dualStack && firsts.count > 1 {
            logger.warning("this node is dual-stack, but this mode proxies one family here; programming the primary family only",
                           metadata: ["family": "\(first.state.family.rawValue)"])
            firsts = [first]
        }
        if firsts.contains(where: { $0.options.localhostNodePorts && $0.state.family == .ipv4 }) && config.proxyMode == .iptables {
            do { try HostFacts.setSysctl("net/ipv4/conf/all/route_localnet", "1") } catch {
                logger.warning("cannot set route_localnet; localhost NodePorts will not work", metadata: ["error": "\(error)"])
            }
        }
        // One proxier per family; a dual-stack node's behind one DualStackProxier.
        let proxier: any Proxier = firsts.count == 1 ? try makeProxier(first) : DualStackProxier(try firsts.map { ($0.state.family, try makeProxier($0)) })
        logger.info("following", metadata: [
            "node": "\(first.node.name)", "families": "\(firsts.map(\.state.family.rawValue).joined(separator: ","))", "source": "\(source.description)",
            "minSyncPeriod": "\(config.resolvedMinSyncPeriod)", "syncPeriod": "\(config.resolvedSyncPeriod)",
        ])
        var schedule = SyncSchedule(minSyncPeriod: config.resolvedMinSyncPeriod.duration, syncPeriod: config.resolvedSyncPeriod.duration,
                                    fullSyncPeriod: fullSyncPeriod, start: clock.now)
        var seen: [String] = []
        var trackers = firsts.map { ProxyStateTracker(family: $0.state.family, nodeName: $0.node.name) }
        var problemsLogged: [ManifestProblem] = []
        // Slice changes whose rules are not yet known to be in the kernel (network programming latency).
        var unprogrammed: [String: EndpointSlice?] = [:]
        var pendingServices = Set<String>()
        while !Task.isCancelled {
            let now = clock.now
            switch schedule.next(now: now) {
            case .wait(let deadline):
                guard await signal.wait(until: deadline, clock: clock) else { continue }
                // The fingerprint says whether the objects really moved (a watched directory's other files do not count).
                let fingerprint = source.fingerprint()
                guard fingerprint != seen else { continue }
                seen = fingerprint
                if !schedule.pending {
                    for tracker in trackers {
                        health?.queued(tracker.family)
                        metrics?.family(tracker.family).queued()
                    }
                }
                schedule.changed()
            case .checkIntegrity:
                // The proxier logs what it found broken; the next sync is full.
                schedule.checked(at: now, intact: await proxier.checkIntegrity())
            case .sync(let forceFull):
                if forceFull { await proxier.forceFullSync() }
                do {
                    var steps = SyncSteps(start: now)
                    let fingerprint = source.fingerprint()
                    let changes = try take(into: &trackers, problemsLogged: &problemsLogged)
                    unprogrammed.merge(changes.endpointSlices) { $1 }
                    pendingServices.formUnion(changes.services.keys)
                    metrics?.changesTaken(services: changes.services.count, endpointSlices: changes.endpointSlices.count,
                                          pendingServices: pendingServices.count, pendingEndpointSlices: unprogrammed.count)
                    steps.lap("inputs")
                    seen = fingerprint
                    lastNotReady = ""
                    // Each family in turn (the families proxied were fixed at start); one family's
                    // failure does not stop the other's (a failed one's next sync is full).
                    var outcomes: [SyncOutcome] = []
                    for index in trackers.indices {
                        let changed = trackers[index].takeChangedServices()
                        let outcome = await proxier.sync(trackers[index].state, changedServices: changed, steps: steps)
                        if outcome.succeeded { health?.updated(trackers[index].family) }
                        outcomes.append(outcome)
                        steps = SyncSteps()
                    }
                    schedule.synced(at: now, full: outcomes.allSatisfy(\.full))
                    if let metrics {
                        for (tracker, outcome) in zip(trackers, outcomes) {
                            metrics.family(tracker.family).synced(outcome, report: await proxier.report(family: tracker.family))
                        }
                    }
                    health?.setNodeEligible(trackers[0].node?.isEligible ?? true)
                    if outcomes.allSatisfy(\.succeeded) {
                        metrics?.programmed(unprogrammed)
                        unprogrammed = [:]
                        pendingServices = []
                        metrics?.changesTaken(services: 0, endpointSlices: 0, pendingServices: 0, pendingEndpointSlices: 0)
                        await serviceHealth?.update(trackers.reduce(into: [:]) { $0.merge(ServiceHealthServers.wanted($1.state)) { $0.localEndpoints >= $1.localEndpoints ? $0 : $1 } })
                    }
                } catch let notReady as ManifestNotReady {
                    // Empty, half-written or holding no object: keep the rules. The writer's next
                    // event brings it back; one that stays not ready is read again once a second.
                    if notReady.description != lastNotReady { logger.warning("keeping the rules in place: \(notReady)") }
                    lastNotReady = notReady.description
                    schedule.notReady(retryAt: now + .seconds(1))
                } catch {
                    // The files could not be read at all: keep what is programmed and try again.
                    logger.error("cannot read manifests; keeping the rules in place", metadata: ["error": "\(error)"])
                    schedule.synced(at: now, full: false)
                }
            }
        }
    }
}
