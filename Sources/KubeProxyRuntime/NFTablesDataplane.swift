import Dispatch
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging
import NFTablesRules

/// nftables mode: ``SyncEngine`` on the nftables dataplane.
public typealias NFTablesProxier = SyncEngine<NFTablesDataplane>

extension SyncEngine where Plane == NFTablesDataplane {
    public init(nft: any NFTablesInterface, options: IPTablesCompilerOptions, family: IPFamily,
                conntrack: (any ConntrackCleaner)? = nil, servicesPerTransaction: Int = NFTablesDataplane.defaultServicesPerTransaction,
                logger: Logger = Logger(label: "swift-kube-proxy.nftables")) {
        self.init(dataplane: NFTablesDataplane(nft: nft, options: options, family: family, servicesPerTransaction: servicesPerTransaction, logger: logger),
                  conntrack: conntrack, logger: logger)
    }
}

/// The nftables dataplane: one transaction per sync (large syncs in stages, see
/// ``NFTablesSyncPlan/stages(servicesPerStage:)``). Chains that fall out of use are flushed at
/// once and deleted by a separate transaction once stale for a second (older kernels see the last
/// reference go late).
public actor NFTablesDataplane: Dataplane {
    let nft: any NFTablesInterface
    let compiler: NFTablesCompiler
    let logger: Logger
    /// Service ports per transaction in large syncs; 0 sends every sync as one transaction.
    let servicesPerTransaction: Int
    /// 300: at 10k Services x 10 endpoints through the netlink writer, 100 to 300 per stage measured
    /// fastest (1,000: 22 s, 300: 16 s); through `nft` alone, 500 to 1,000 (docs/nftables-scale.md).
    public static let defaultServicesPerTransaction = 300
    var family: String { compiler.family == .ipv4 ? "ip" : "ip6" }

    /// The plan of the last sync, applied or not.
    public private(set) var lastPlan: NFTablesSyncPlan?
    /// Failed transactions (`kubeproxy_sync_proxy_rules_nftables_sync_failures_total`), and the
    /// size of the last one.
    public private(set) var failures = 0, lastOperations = 0
    /// What the table holds after the last successful sync (nil: unknown, the next sync is full).
    private var memory: NFTablesMemory?
    /// The table's own chains (base chains and helpers), from the last full sync's setup.
    private var fixedChains: Set<String> = []
    private var staleSince: [String: ContinuousClock.Instant] = [:]

    public init(nft: any NFTablesInterface, options: IPTablesCompilerOptions, family: IPFamily,
                servicesPerTransaction: Int = defaultServicesPerTransaction, logger: Logger = Logger(label: "swift-kube-proxy.nftables")) {
        self.nft = nft
        self.servicesPerTransaction = servicesPerTransaction
        self.compiler = NFTablesCompiler(options: options.common, family: family)
        self.logger = logger
    }

    public var canSyncPartially: Bool { memory != nil }

    /// Drops `value` on another thread: freeing a 10k-Service plan takes a tenth of a second.
    nonisolated static func release(_ value: consuming NFTablesSyncPlan?) {
        guard let value else { return }
        DispatchQueue.global(qos: .background).async { withExtendedLifetime(value) {} }
    }

    /// The table, and since the last sync what it wrote: the table's own chains hold rules, every
    /// set and map its elements (``NFTablesIntegrity``).
    public func integrityProblems(sinceLastSync: Bool) async -> [String] {
        guard await nft.tableExists(family: family, table: NFTablesCompiler.table) else {
            memory = nil
            return ["the kube-proxy table is gone (deleted from outside)"]
        }
        guard sinceLastSync, let memory else { return [] }
        do {
            let summary = try await nft.summary(family: family, table: NFTablesCompiler.table, chains: fixedChains, containers: Set(memory.elements.keys))
            return NFTablesIntegrity.problems(summary, memory: memory, fixedChains: fixedChains)
        } catch {
            return ["cannot read the table back: \(error)"]
        }
    }

    public func apply(_ state: ProxyState, scope: SyncScope, steps: SyncSteps) async throws -> DataplaneSync {
        var steps = steps
        let full = scope.isFull, start = ContinuousClock.now
        // Listing the table costs a dump of every chain and anonymous map (seconds at 10k
        // Services): full syncs ask the kernel; between them the table holds what the last sync
        // left, which the memory knows.
        let chains = full ? Set(try await nft.listChains(family: family, table: NFTablesCompiler.table)) : nil
        let sets = full ? Set(try await nft.listSets(family: family, table: NFTablesCompiler.table)) : nil
        steps.lap("list")
        let plan = compiler.compile(state, scope: scope, previous: full ? nil : memory, existingChains: chains, existingSets: sets)
        // The last plan (a full sync's holds every operation: 0.1 s to free at 10k Services) is
        // freed off this path: moved out of the property first, so that the queue holds its last reference.
        var previousPlan: NFTablesSyncPlan? = plan
        swap(&previousPlan, &lastPlan)
        Self.release(consume previousPlan)
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
        memory = plan.memory
        if full { fixedChains = plan.setup.addedChainNames }
        lastOperations = plan.transaction.count
        return DataplaneSync(steps: steps, details: ["operations": "\(plan.transaction.count)", "staleChains": "\(plan.staleChains.count)"])
    }

    public func report() -> ProxierReport {
        var r = ProxierReport()
        r.nftablesSyncFailures = failures
        return r
    }
}
