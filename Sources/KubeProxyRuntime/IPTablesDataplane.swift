import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging

/// iptables mode: ``SyncEngine`` on the iptables dataplane.
public typealias IPTablesProxier = SyncEngine<IPTablesDataplane>

extension SyncEngine where Plane == IPTablesDataplane {
    /// - Parameter tableEntries: a cheap entry count per table (``XTablesInfo`` for iptables-legacy
    ///   in this process's namespace): the integrity check reads the rules only when it moved.
    public init(iptables: any IPTablesInterface, options: IPTablesCompilerOptions, conntrack: (any ConntrackCleaner)? = nil,
                cleanupInterval: Duration = .seconds(30), tableEntries: (@Sendable (String) -> Int?)? = nil,
                logger: Logger = Logger(label: "swift-kube-proxy.iptables")) {
        self.init(dataplane: IPTablesDataplane(iptables: iptables, options: options, cleanupInterval: cleanupInterval, tableEntries: tableEntries),
                  conntrack: conntrack, logger: logger)
    }
}

/// The iptables dataplane: each sync compiles the whole desired state and makes one
/// `iptables-restore` call; a failed call leaves the kernel as it was.
public actor IPTablesDataplane: Dataplane {
    let iptables: any IPTablesInterface
    let compiler: IPTablesCompiler
    /// Stale-chain cleanup interval in large-cluster mode (upstream: syncPeriod).
    let cleanupInterval: Duration

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

    public init(iptables: any IPTablesInterface, options: IPTablesCompilerOptions, cleanupInterval: Duration = .seconds(30),
                tableEntries: (@Sendable (String) -> Int?)? = nil) {
        self.tableEntries = tableEntries
        self.iptables = iptables
        self.compiler = IPTablesCompiler(options: options)
        self.cleanupInterval = cleanupInterval
    }

    public var canSyncPartially: Bool { lastAppliedPlan != nil }
    /// The family this dataplane programs: its iptables binary's.
    nonisolated var family: IPFamily { iptables.family }

    public func apply(_ state: ProxyState, scope: SyncScope, steps: SyncSteps) async throws -> DataplaneSync {
        var steps = steps
        let full = scope.isFull
        if full { try await ensureBaseChains(family: state.family) }
        // Stale chains: a full sync asks the kernel (a previous process may have left some);
        // a partial sync knows what the last successful sync left, without an iptables-save.
        var existing: Set<String>?
        let largeCluster = state.totalEndpointCount > compiler.options.largeClusterEndpointsThreshold
        let now = ContinuousClock.now
        if !full, let known = lastAppliedPlan?.activeNATChains {
            existing = known
        } else if !largeCluster || lastCleanup.map({ now - $0 > cleanupInterval }) ?? true {
            existing = Self.chainNames(inSave: try await iptables.save(table: "nat"))
            lastCleanup = now
        }
        steps.lap("list")
        let plan = compiler.compile(state, scope: scope, existingNATChains: existing, previous: lastAppliedPlan)
        lastPlan = plan
        steps.lap("compile")
        do {
            try await iptables.restore(plan.payload)
        } catch {
            metrics.restoreFailures += 1
            if !full { metrics.partialRestoreFailures += 1 }
            throw error
        }
        steps.lap("restore")
        metrics.record(plan)
        lastAppliedPlan = plan
        verifiedEntries = nil
        return DataplaneSync(steps: steps, details: ["natRules": "\(plan.natRulesWritten)/\(plan.natRuleTotal)", "deletedChains": "\(plan.deletedChains.count)"])
    }

    /// Whether the canary chain is still there (gone: someone flushed our rules).
    public func canaryPresent() async -> Bool {
        await iptables.chainExists(table: "mangle", chain: IPTablesCompiler.canaryChain)
    }

    /// The canary chain, and since the last sync everything it wrote (jump rules, rule totals,
    /// every Service port's chains: ``IPTablesIntegrity``).
    public func integrityProblems(sinceLastSync: Bool) async -> [String] {
        guard await canaryPresent() else { return ["the canary chain is gone (tables flushed from outside)"] }
        guard sinceLastSync, let plan = lastAppliedPlan else { return [] }
        // Entry counts as the last check that read the rules found them: nothing was added or
        // removed since, so the rules are not read again.
        let before = entryCounts()
        if let before, before == verifiedEntries { return [] }
        do {
            let nat = try await iptables.save(table: "nat"), filter = try await iptables.save(table: "filter")
            let problems = IPTablesIntegrity.problems(nat: nat, filter: filter, plan: plan, jumps: Self.jumpRules(family: family, options: compiler.options))
            // Counts unchanged across the read: the rules read are the rules these counts describe.
            verifiedEntries = problems.isEmpty && before != nil && entryCounts() == before ? before : nil
            return problems
        } catch {
            return ["cannot read the rules back: \(error)"]
        }
    }

    public func report() -> ProxierReport {
        var r = ProxierReport()
        r.iptablesNATTotal = metrics.natRulesTotal
        r.iptablesNATLast = metrics.natRulesLast
        r.iptablesFilterTotal = metrics.filterRulesTotal
        r.restoreFailures = metrics.restoreFailures
        r.partialRestoreFailures = metrics.partialRestoreFailures
        r.noLocalEndpointsInternal = metrics.noLocalEndpointsInternal
        r.noLocalEndpointsExternal = metrics.noLocalEndpointsExternal
        return r
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
