import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging
import NFTablesRules

/// The nftables-mode proxier: one `nft -f -` transaction per sync (large syncs in stages, see
/// ``NFTablesSyncPlan/stages(servicesPerStage:)``); a failure makes the next sync full. Chains that
/// fall out of use are flushed at once and deleted by a separate transaction once stale for a
/// second (older kernels see the last reference go late).
public actor NFTablesProxier: Proxier {
    let nft: any NFTablesInterface
    let compiler: NFTablesCompiler
    let conntrack: (any ConntrackCleaner)?
    let logger: Logger
    /// Service ports per transaction in large syncs; 0 sends every sync as one transaction.
    let servicesPerTransaction: Int
    /// 300: at 10k Services x 10 endpoints through the netlink writer, 100 to 300 per stage measured
    /// fastest (1,000: 22 s, 300: 16 s); through `nft` alone, 500 to 1,000 (docs/nftables-scale.md).
    public static let defaultServicesPerTransaction = 300
    var family: String { compiler.family == .ipv4 ? "ip" : "ip6" }

    public private(set) var lastApplied: ProxyState?
    public private(set) var needFullSync = true
    public private(set) var lastPlan: NFTablesSyncPlan?
    /// The steps of the last sync: `list`, `compile`, `apply` (staged: `containers`, `services`,
    /// `frame`), `conntrack`.
    public private(set) var lastSteps = SyncSteps()
    /// Successful syncs, failed transactions, and the size of the last transaction.
    public private(set) var fullSyncs = 0, partialSyncs = 0, failures = 0, lastOperations = 0
    private var memory: NFTablesMemory?
    /// The table's own chains (base chains and helpers), from the last full sync's setup.
    private var fixedChains: Set<String> = []
    private var staleSince: [String: ContinuousClock.Instant] = [:]

    public init(nft: any NFTablesInterface, options: IPTablesCompilerOptions, family: IPFamily,
                conntrack: (any ConntrackCleaner)? = nil, servicesPerTransaction: Int = defaultServicesPerTransaction,
                logger: Logger = Logger(label: "swift-kube-proxy.nftables")) {
        self.nft = nft
        self.servicesPerTransaction = servicesPerTransaction
        self.compiler = NFTablesCompiler(options: options.common, family: family)
        self.conntrack = conntrack
        self.logger = logger
    }

    public func forceFullSync() { needFullSync = true }

    /// Drops `value` on another thread: freeing a 10k-Service plan takes a tenth of a second.
    nonisolated static func release(_ value: consuming NFTablesSyncPlan?) {
        guard let value else { return }
        Task.detached(priority: .background) { withExtendedLifetime(value) {} }
    }

    /// Whether the table and what the last sync wrote are still there: the table's own chains hold
    /// rules, every set and map its elements (``NFTablesIntegrity``); when not, the next sync is full.
    public func checkIntegrity() async -> Bool {
        guard await nft.tableExists(family: family, table: NFTablesCompiler.table) else {
            needFullSync = true
            memory = nil
            logger.warning("the kube-proxy table is gone (deleted from outside); the next sync is full")
            return false
        }
        guard let memory, !needFullSync else { return true }
        do {
            let summary = try await nft.summary(family: family, table: NFTablesCompiler.table, chains: fixedChains, containers: Set(memory.elements.keys))
            let problems = NFTablesIntegrity.problems(summary, memory: memory, fixedChains: fixedChains)
            guard problems.isEmpty else {
                needFullSync = true
                logger.warning("our table was changed from outside; the next sync is full", metadata: [
                    "problems": "\(problems.count)", "first": "\(problems.prefix(5).joined(separator: "; "))",
                ])
                return false
            }
            return true
        } catch {
            needFullSync = true
            logger.warning("cannot read the table back; the next sync is full", metadata: ["error": "\(error)"])
            return false
        }
    }

    @discardableResult
    public func sync(_ state: ProxyState) async -> SyncOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let full = needFullSync || lastApplied == nil || memory == nil || lastApplied?.nodeLabels != state.nodeLabels
        let scope: IPTablesCompiler.Scope = full ? .full : .partial(changedServices: state.changedServices(since: lastApplied!))
        var steps = SyncSteps(start: start)
        defer { lastSteps = steps }
        do {
            // Listing the table costs a dump of every chain and anonymous map (seconds at 10k
            // Services): full syncs ask the kernel; between them the table holds what the last sync
            // left, which the memory knows.
            let chains = full ? Set(try await nft.listChains(family: family, table: NFTablesCompiler.table)) : nil
            let sets = full ? Set(try await nft.listSets(family: family, table: NFTablesCompiler.table)) : nil
            steps.lap("list")
            let plan = compiler.compile(state, scope: scope, previous: full ? nil : memory, existingChains: chains, existingSets: sets)
            // The last plan (a full sync's holds every operation) is freed off this path.
            Self.release(lastPlan)
            lastPlan = plan
            steps.lap("compile")
            // Chains stale for over a second are deleted in this sync's last transaction (each `nft`
            // call reloads its cache of every chain: a second at 10k Services); if that transaction
            // fails, it is retried without them and they wait for a later sync.
            for chain in staleSince.keys where plan.activeChains.contains(chain) { staleSince[chain] = nil }
            let old = staleSince.filter { start - $0.value > .seconds(1) }.map(\.key).sorted()
            var stages = plan.stages(servicesPerStage: servicesPerTransaction)
            let withoutDeletions = stages.last
            if !old.isEmpty {
                if stages.isEmpty { stages = [compiler.deleteChains(old)] } else { stages[stages.count - 1].append(compiler.deleteChains(old)) }
            }
            var deleted = !old.isEmpty
            for (index, stage) in stages.enumerated() {
                if stages.count > 2 && index == stages.count - 1 { steps.lap("services") }
                do { try await nft.run(stage) } catch {
                    guard index == stages.count - 1, !old.isEmpty else { failures += 1; throw error }
                    logger.warning("could not delete stale chains; will retry", metadata: ["error": "\(error)"])
                    deleted = false
                    if let retry = withoutDeletions {
                        do { try await nft.run(retry) } catch { failures += 1; throw error }
                    }
                }
                if stages.count > 2 && index == 0 { steps.lap("containers") }
            }
            if deleted { for chain in old { staleSince[chain] = nil } }
            for chain in plan.staleChains where staleSince[chain] == nil { staleSince[chain] = start }
            steps.lap(stages.count > 2 ? "frame" : "apply")
            let deletions = StaleConntrack.deletions(previous: lastApplied, current: state)
            if let conntrack, !deletions.isEmpty { _ = await conntrack.delete(deletions, family: state.family) }
            steps.lap("conntrack")
            memory = plan.memory
            if full { fixedChains = plan.setup.addedChainNames }
            lastApplied = state
            needFullSync = false
            lastOperations = plan.transaction.count
            if full { fullSyncs += 1 } else { partialSyncs += 1 }
            let elapsed = clock.now - start
            logger.info("sync done", metadata: ["full": "\(full)", "duration": "\(elapsed)", "operations": "\(plan.transaction.count)",
                                                "staleChains": "\(plan.staleChains.count)", "steps": "\(steps)"])
            return SyncOutcome(full: full, error: nil, duration: elapsed)
        } catch {
            needFullSync = true
            logger.error("sync failed; the next sync will be full", metadata: ["full": "\(full)", "error": "\(error)"])
            return SyncOutcome(full: full, error: "\(error)", duration: clock.now - start)
        }
    }
}
