import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging

/// The iptables-mode proxier: each sync compiles the whole desired state and makes one
/// `iptables-restore` call; a failed call leaves the kernel as it was and makes the next sync full.
public actor IPTablesProxier {
    let iptables: any IPTablesInterface
    let compiler: IPTablesCompiler
    let conntrack: (any ConntrackCleaner)?
    let logger: Logger
    /// Stale-chain cleanup interval in large-cluster mode (upstream: syncPeriod).
    let cleanupInterval: Duration

    /// The state of the last successful sync.
    public private(set) var lastApplied: ProxyState?
    /// Whether the next sync writes every chain.
    public private(set) var needFullSync = true
    /// The plan of the last sync, applied or not.
    public private(set) var lastPlan: IPTablesSyncPlan?
    /// Counters and gauges with upstream's meaning.
    public private(set) var metrics = IPTablesProxierMetrics()
    private var lastCleanup: ContinuousClock.Instant?
    private var lastAppliedPlan: IPTablesSyncPlan?
    /// The kernel's entry counts of nat and filter when an integrity check last read the rules and
    /// found them whole, when ``tableEntries`` can read them (iptables-legacy in this process's
    /// namespace); nil after each of our syncs. Counts taken right after a restore could include an
    /// outside flush that landed in between, so only a check's bracketed read sets them.
    private var verifiedEntries: [String: Int]?
    /// Reads a table's entry count cheaply (``XTablesInfo``); nil where that is not possible.
    let tableEntries: (@Sendable (String) -> Int?)?

    /// - Parameter tableEntries: a cheap entry count per table (``XTablesInfo`` for iptables-legacy
    ///   in this process's namespace): the integrity check reads the rules only when it moved.
    public init(iptables: any IPTablesInterface, options: IPTablesCompilerOptions, conntrack: (any ConntrackCleaner)? = nil,
                cleanupInterval: Duration = .seconds(30), tableEntries: (@Sendable (String) -> Int?)? = nil,
                logger: Logger = Logger(label: "swift-kube-proxy.iptables")) {
        self.tableEntries = tableEntries
        self.iptables = iptables
        self.compiler = IPTablesCompiler(options: options)
        self.conntrack = conntrack
        self.cleanupInterval = cleanupInterval
        self.logger = logger
    }

    /// Forces the next sync to be full (the canary chain vanished, node labels changed, ...).
    public func forceFullSync() { needFullSync = true }

    /// Programs the kernel for `state`.
    @discardableResult
    public func sync(_ state: ProxyState) async -> SyncOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        // Topology hints depend on the node's labels: a label change rewrites everything, as upstream.
        let full = needFullSync || lastApplied == nil || lastApplied?.nodeLabels != state.nodeLabels
        let scope: IPTablesCompiler.Scope = full ? .full : .partial(changedServices: state.changedServices(since: lastApplied!))
        do {
            if full { try await ensureBaseChains(family: state.family) }
            // Stale chains: a full sync asks the kernel (a previous process may have left some);
            // a partial sync knows what the last successful sync left, without an iptables-save.
            var existing: Set<String>?
            let largeCluster = state.totalEndpointCount > compiler.options.largeClusterEndpointsThreshold
            if !full, let known = lastAppliedPlan?.activeNATChains {
                existing = known
            } else if !largeCluster || lastCleanup.map({ clock.now - $0 > cleanupInterval }) ?? true {
                existing = Self.chainNames(inSave: try await iptables.save(table: "nat"))
                lastCleanup = clock.now
            }
            let plan = compiler.compile(state, scope: scope, existingNATChains: existing, previous: lastAppliedPlan)
            lastPlan = plan
            do {
                try await iptables.restore(plan.payload)
            } catch {
                metrics.restoreFailures += 1
                if !full { metrics.partialRestoreFailures += 1 }
                throw error
            }
            metrics.record(plan)
            let deletions = StaleConntrack.deletions(previous: lastApplied, current: state)
            if let conntrack, !deletions.isEmpty {
                metrics.conntrackDeletions += await conntrack.delete(deletions, family: state.family)
            }
            lastApplied = state
            lastAppliedPlan = plan
            needFullSync = false
            verifiedEntries = nil
            let elapsed = clock.now - start
            metrics.observe(elapsed, full: full)
            logger.info("sync done", metadata: [
                "full": "\(full)", "duration": "\(elapsed)", "natRules": "\(plan.natRulesWritten)/\(plan.natRuleTotal)",
                "deletedChains": "\(plan.deletedChains.count)",
            ])
            return SyncOutcome(full: full, error: nil, duration: elapsed)
        } catch {
            needFullSync = true
            let elapsed = clock.now - start
            logger.error("sync failed; the next sync will be full", metadata: ["full": "\(full)", "error": "\(error)"])
            return SyncOutcome(full: full, error: "\(error)", duration: elapsed)
        }
    }

    /// Whether the canary chain is still there; when it is not, someone flushed our rules and the next sync is full.
    public func canaryPresent() async -> Bool {
        let present = await iptables.chainExists(table: "mangle", chain: IPTablesCompiler.canaryChain)
        if !present { needFullSync = true }
        return present
    }

    /// Whether the canary chain and everything the last sync wrote are still there (jump rules,
    /// rule totals, every Service port's chains: ``IPTablesIntegrity``); when not, the next sync is full.
    public func checkIntegrity() async -> Bool {
        guard await canaryPresent() else {
            logger.warning("the canary chain is gone (tables flushed from outside); the next sync is full")
            return false
        }
        guard let plan = lastAppliedPlan, !needFullSync, let family = lastApplied?.family else { return true }
        // Entry counts as the last check that read the rules found them: nothing was added or
        // removed since, so the rules are not read again.
        let before = entryCounts()
        if let before, before == verifiedEntries { return true }
        do {
            let nat = try await iptables.save(table: "nat"), filter = try await iptables.save(table: "filter")
            let problems = IPTablesIntegrity.problems(nat: nat, filter: filter, plan: plan, jumps: Self.jumpRules(family: family, options: compiler.options))
            guard problems.isEmpty else {
                needFullSync = true
                verifiedEntries = nil
                logger.warning("our rules were changed from outside; the next sync is full", metadata: [
                    "problems": "\(problems.count)", "first": "\(problems.prefix(5).joined(separator: "; "))",
                ])
                return false
            }
            // Counts unchanged across the read: the rules read are the rules these counts describe.
            verifiedEntries = before != nil && entryCounts() == before ? before : nil
            return true
        } catch {
            needFullSync = true
            logger.warning("cannot read the rules back; the next sync is full", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// nat's and filter's entry counts, when ``tableEntries`` reads both.
    func entryCounts() -> [String: Int]? {
        guard let tableEntries, let nat = tableEntries("nat"), let filter = tableEntries("filter") else { return nil }
        return ["nat": nat, "filter": filter]
    }

    static func jumpRules(family: IPFamily, options: IPTablesCompilerOptions) -> [IPTablesJumpRule] {
        IPTablesJumpRule.all + (family == .ipv4 && options.localhostNodePorts ? IPTablesJumpRule.kubeletFirewall : [])
    }

    private func ensureBaseChains(family: IPFamily) async throws {
        for table in ["mangle", "nat", "filter"] {
            try await iptables.ensureChain(table: table, chain: IPTablesCompiler.canaryChain)
        }
        for jump in Self.jumpRules(family: family, options: compiler.options) {
            try await iptables.ensureChain(table: jump.table, chain: jump.to)
            try await iptables.ensureRule(table: jump.table, chain: jump.from, args: jump.args)
        }
    }

    /// The chain names declared in `iptables-save` output.
    static func chainNames(inSave text: String) -> Set<String> {
        Set(text.split(separator: "\n").filter { $0.hasPrefix(":") }.map { String($0.dropFirst().split(separator: " ")[0]) })
    }
}

/// How one sync went.
public struct SyncOutcome: Hashable, Sendable {
    public var full: Bool
    /// The error, when the sync failed.
    public var error: String?
    public var duration: Duration
    public var succeeded: Bool { error == nil }

    public init(full: Bool, error: String? = nil, duration: Duration) {
        self.full = full
        self.error = error
        self.duration = duration
    }
}
