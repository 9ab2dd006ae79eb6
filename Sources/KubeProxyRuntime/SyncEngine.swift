import KubeProxyCore
import KubeProxyKernel
import Logging

/// The one sync skeleton of every mode (upstream's proxier pattern): decide full or partial, let
/// the ``Dataplane`` compute everything and write it in its kernel call, and on failure keep the
/// kernel as it was and make the next sync full. Then the stale UDP conntrack entries, the
/// timings, the log line and the counts, identically for iptables, nftables and IPVS mode.
public actor SyncEngine<Plane: Dataplane>: Proxier {
    /// This mode's writer (one family).
    public let dataplane: Plane
    let conntrack: (any ConntrackCleaner)?
    let logger: Logger

    /// The state of the last successful sync.
    public private(set) var lastApplied: ProxyState?
    /// Whether the next sync writes everything.
    public private(set) var needFullSync = true
    /// Successful full and partial syncs, and failed ones.
    public private(set) var fullSyncs = 0, partialSyncs = 0, failures = 0
    /// Conntrack entries deleted (`kubeproxy_conntrack_reconciler_deleted_entries_total`).
    public private(set) var conntrackDeletions = 0
    /// How long each step of the last sync took (the dataplane's, then `conntrack`).
    public private(set) var lastSteps = SyncSteps()

    public init(dataplane: Plane, conntrack: (any ConntrackCleaner)?, logger: Logger) {
        self.dataplane = dataplane
        self.conntrack = conntrack
        self.logger = logger
    }

    public func forceFullSync() { needFullSync = true }

    /// Programs the kernel for `state`: full after a failure, a forced resync, a change of the
    /// node's labels (topology hints) or when the dataplane forgot the kernel; partial otherwise.
    /// The duration reported is the engine's own; `steps` may start earlier (the inputs). A
    /// partial sync writes `changedServices` when given (a tracker's, a superset of what moved),
    /// else the Services whose ports or endpoints differ from the last state synced.
    @discardableResult
    public func sync(_ state: ProxyState, changedServices: Set<String>?, steps: SyncSteps) async -> SyncOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let partialPossible = await dataplane.canSyncPartially
        let full = needFullSync || lastApplied == nil || lastApplied?.nodeLabels != state.nodeLabels || !partialPossible
        let scope: SyncScope = full ? .full : .partial(changedServices: changedServices ?? state.changedServices(since: lastApplied!))
        do {
            var steps = steps
            steps.lap("decide")
            var done = try await dataplane.apply(state, scope: scope, steps: steps)
            let deletions = StaleConntrack.deletions(previous: lastApplied, current: state, services: full ? nil : changedServices)
            if let conntrack, !deletions.isEmpty { conntrackDeletions += await conntrack.delete(deletions, family: state.family) }
            done.steps.lap("conntrack")
            lastApplied = state
            lastSteps = done.steps
            needFullSync = false
            if full { fullSyncs += 1 } else { partialSyncs += 1 }
            let elapsed = clock.now - start
            logger.info("sync done", metadata: done.details.merging(["full": "\(full)", "duration": "\(elapsed)", "steps": "\(done.steps)"]) { $1 })
            return SyncOutcome(full: full, error: nil, duration: elapsed)
        } catch {
            needFullSync = true
            failures += 1
            logger.error("sync failed; the next sync will be full", metadata: ["full": "\(full)", "error": "\(error)"])
            return SyncOutcome(full: full, error: "\(error)", duration: clock.now - start)
        }
    }

    /// Whether what the last sync wrote is still there; when not, the problems are logged and
    /// the next sync is full.
    public func checkIntegrity() async -> Bool {
        let problems = await dataplane.integrityProblems(sinceLastSync: !needFullSync && lastApplied != nil)
        guard problems.isEmpty else {
            needFullSync = true
            logger.warning("our rules were changed from outside; the next sync is full", metadata: [
                "problems": "\(problems.count)", "first": "\(problems.prefix(5).joined(separator: "; "))",
            ])
            return false
        }
        return true
    }

    public func report() async -> ProxierReport { await dataplane.report() }
}
