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
    public let makeProxier: @Sendable (ProxierInputs) throws -> any Proxier
    public let features: KernelFeatures
    public let logger: Logger
    /// Conversions of unchanged Services and EndpointSlices, kept across syncs, per family.
    let memos: [IPFamily: ConversionMemo] = [.ipv4: ConversionMemo(), .ipv6: ConversionMemo()]
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

    public init(source: any ManifestProvider, config: KubeProxyConfiguration, features: KernelFeatures, logger: Logger,
                makeProxier: @escaping @Sendable (ProxierInputs) throws -> any Proxier) {
        self.source = source
        self.config = config
        self.features = features
        self.logger = logger
        self.makeProxier = makeProxier
    }

    /// Loads the current inputs of each family the node proxies (the primary first), logging
    /// every object that had to be skipped.
    func load() throws -> (inputs: [ProxierInputs], manifests: Manifests) {
        let manifests = try source.load()
        for problem in manifests.problems { logger.warning("skipping manifest document", metadata: ["problem": "\(problem)"]) }
        let inputs = ProxierInputs.all(config: config, manifests: manifests, hostname: HostFacts.hostname(),
                                       hostAddresses: HostFacts.interfaceAddresses(), features: features, memos: memos)
        // Validation does not depend on the family: the primary's list names every skipped object.
        for skipped in inputs[0].skipped { logger.warning("skipping object", metadata: ["object": "\(skipped.object)", "field": "\(skipped.field)", "reason": "\(skipped.reason)"]) }
        return (inputs, manifests)
    }

    /// Runs until the task is cancelled; the rules stay in place afterwards. Change-driven: it
    /// sleeps until the source signals a change or ``SyncSchedule`` has something due.
    public func run() async throws {
        let clock = ContinuousClock()
        let signal = ChangeSignal()
        let watch = try source.watch { signal.notify() }
        defer { watch.cancel() }
        var first: [ProxierInputs]?
        var lastNotReady = ""
        while first == nil {
            try Task.checkCancellation()
            do { first = try load().inputs } catch let notReady as ManifestNotReady {
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
                    health?.queued()
                    metrics?.queued()
                }
                schedule.changed()
            case .checkIntegrity:
                // The proxier logs what it found broken; the next sync is full.
                schedule.checked(at: now, intact: await proxier.checkIntegrity())
            case .sync(let forceFull):
                if forceFull { await proxier.forceFullSync() }
                do {
                    let fingerprint = source.fingerprint()
                    let (inputs, manifests) = try load()
                    seen = fingerprint
                    lastNotReady = ""
                    // Each family in turn (the families proxied were fixed at start); one family's
                    // failure does not stop the other's sync.
                    var outcomes: [SyncOutcome] = []
                    for family in firsts.map(\.state.family) {
                        guard let familyInputs = inputs.first(where: { $0.state.family == family }) else { continue }
                        outcomes.append(await proxier.sync(familyInputs.state))
                    }
                    schedule.synced(at: now, full: outcomes.allSatisfy(\.full))
                    let report = await proxier.report()
                    for outcome in outcomes { metrics?.synced(outcome, report: report) }
                    if outcomes.allSatisfy(\.succeeded) {
                        health?.updated()
                        health?.setNodeEligible(manifests.nodes.first { $0.metadata.name == first.node.name }?.metadata.deletionTimestamp == nil)
                        metrics?.programmed(manifests.endpointSlices)
                        await serviceHealth?.update(inputs.reduce(into: [:]) { $0.merge(ServiceHealthServers.wanted($1.state)) { $0.localEndpoints >= $1.localEndpoints ? $0 : $1 } })
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
