import IPTablesRules
import IPVSRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging

/// The IPVS-mode proxier. Each sync computes everything it wants (virtual servers, kube-ipvs0
/// addresses, ipset entries, iptables rules) and brings the kernel there, in upstream's order:
/// jump rules, the dummy interface, ipsets, addresses, virtual and real servers (diffed against the
/// kernel's own table, with graceful termination), `iptables-restore`, then the addresses no longer
/// wanted. A failure makes the next sync full: every ipset rewritten and the jumps re-ensured.
public actor IPVSProxier: Proxier {
    let ipvs: IPVSKernel
    let iptables: any IPTablesInterface
    let ipset: IPSetCommands
    let dummy: DummyInterface
    let options: IPTablesCompilerOptions
    let scheduler: String
    let excludeCIDRs: [CIDR]
    let conntrack: (any ConntrackCleaner)?
    /// This namespace's addresses outside kube-ipvs0 (NodePort addresses; externals already local).
    let localAddresses: @Sendable () -> [IPAddress]
    let logger: Logger

    public private(set) var lastApplied: ProxyState?
    public private(set) var needFullSync = true
    /// Successful syncs, failures, and the IPVS operations of the last sync.
    public private(set) var fullSyncs = 0, partialSyncs = 0, failures = 0
    public private(set) var lastOperations: [IPVSOperation] = []
    /// How long each step of the last successful sync took.
    public private(set) var lastSteps = SyncSteps()
    private var lastSets: [IPVSIPSet: Set<String>]?
    /// What the kernel held after the last successful sync, what that sync wanted, and the
    /// addresses it left bound: partial syncs start from these instead of listing everything.
    private var kernelTable: [VirtualServer.Key: VirtualServer]?
    private var lastDesired: [VirtualServer.Key: VirtualServer]?
    private var lastBound: Set<IPAddress>?
    private var lastFullListing: ContinuousClock.Instant?
    /// How long partial syncs may trust the cached table before one lists the kernel's again.
    let fullListingInterval: Duration

    public init(ipvs: IPVSKernel, iptables: any IPTablesInterface, ipset: IPSetCommands, dummy: DummyInterface,
                options: IPTablesCompilerOptions, scheduler: String = "rr", excludeCIDRs: [CIDR] = [],
                conntrack: (any ConntrackCleaner)? = nil, fullListingInterval: Duration = .seconds(60),
                localAddresses: @escaping @Sendable () -> [IPAddress] = { HostFacts.interfaceAddresses(excluding: DummyInterface.defaultName) },
                logger: Logger = Logger(label: "swift-kube-proxy.ipvs")) {
        self.ipvs = ipvs
        self.iptables = iptables
        self.ipset = ipset
        self.dummy = dummy
        self.options = options
        self.scheduler = scheduler.isEmpty ? "rr" : scheduler
        self.excludeCIDRs = excludeCIDRs
        self.conntrack = conntrack
        self.fullListingInterval = fullListingInterval
        self.localAddresses = localAddresses
        self.logger = logger
    }

    public func forceFullSync() { needFullSync = true }

    /// Our chain and interface are still there; when either vanished, the next sync is full.
    /// Whether what the last sync left is still there: KUBE-SERVICES, kube-ipvs0 and its bound
    /// addresses, every wanted virtual server, every ipset's entry count (one netlink dump, one
    /// `ip` and one `ipset` call). When not, the reason is logged and the next sync is full.
    public func checkIntegrity() async -> Bool {
        var problems: [String] = []
        if !(await iptables.chainExists(table: "nat", chain: "KUBE-SERVICES")) { problems.append("nat KUBE-SERVICES is gone") }
        if !(await dummy.exists()) { problems.append("\(dummy.name) is gone") }
        if problems.isEmpty, !needFullSync, let desired = lastDesired, let bound = lastBound, let sets = lastSets, let family = lastApplied?.family {
            do {
                let present = Set(try ipvs.virtualServers(family).map(\.key))
                let gone = desired.keys.filter { !present.contains($0) }
                if let first = gone.first { problems.append("\(gone.count) virtual servers gone, e.g. \(first)") }
                let addresses = try await dummy.addresses()
                let unbound = bound.filter { $0.family == family && !addresses.contains($0) }
                if let first = unbound.first { problems.append("\(unbound.count) addresses gone from \(dummy.name), e.g. \(first)") }
                let counts = try await ipset.entryCounts()
                for (set, entries) in sets.sorted(by: { $0.key.name(for: family) < $1.key.name(for: family) })
                where counts[set.name(for: family)] != entries.count {
                    problems.append("ipset \(set.name(for: family)): \(counts[set.name(for: family)].map(String.init) ?? "no") entries, \(entries.count) written")
                }
            } catch { problems.append("cannot read the kernel back: \(error)") }
        }
        guard problems.isEmpty else {
            needFullSync = true
            logger.warning("our IPVS state was changed from outside; the next sync is full", metadata: [
                "problems": "\(problems.count)", "first": "\(problems.prefix(5).joined(separator: "; "))",
            ])
            return false
        }
        return true
    }

    /// What a sync wants for `state` on a host with `local` addresses: the virtual servers, sets
    /// and addresses (NodePorts on every matching address except loopback and IPv6 link-local),
    /// and the iptables payload.
    static func plan(_ state: ProxyState, scheduler: String, options: IPTablesCompilerOptions,
                     local: [IPAddress]) -> (desired: IPVSPlanner.Desired, payload: String) {
        let candidates = local.filter { $0.family == state.family && !$0.isLoopback && !$0.isIPv6LinkLocal }
        let planner = IPVSPlanner(scheduler: scheduler, nodePortAddresses: options.nodePortAddresses.matchingAddresses(candidates),
                                  localAddresses: Set(local), nodeIP: options.nodeIP)
        let desired = planner.desired(state)
        var payloadOptions = options
        payloadOptions.hostAddresses = local
        return (desired, IPVSIPTablesRules.payload(desired, options: payloadOptions.common, randomFully: payloadOptions.features.randomFully, family: state.family))
    }

    @discardableResult
    public func sync(_ state: ProxyState) async -> SyncOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let full = needFullSync || lastApplied == nil
        var steps = SyncSteps(start: start)
        do {
            if full {
                for jump in IPVSIPTablesRules.jumps {
                    try await iptables.ensureChain(table: jump.table, chain: jump.to)
                    try await iptables.ensureRule(table: jump.table, chain: jump.from, args: jump.args)
                }
            }
            try await dummy.ensure()
            steps.lap("setup")
            let local = localAddresses()
            let (desired, payload) = Self.plan(state, scheduler: scheduler, options: options, local: local)
            steps.lap("plan")
            try await ipset.restore(IPSetRestore.script(desired: desired.setEntries, previous: full ? nil : lastSets, family: state.family))
            // From here on the sets may hold entries the kernel's other parts do not yet match;
            // a failure below forces the next sync to rewrite them all.
            lastSets = nil
            steps.lap("ipsets")
            // Full syncs, and a partial one now and then, list the kernel's addresses and virtual
            // servers; other partial syncs re-read only what may differ from the cached table.
            let listAll = full || kernelTable == nil || lastDesired == nil || lastBound == nil
                || lastFullListing.map { start - $0 > fullListingInterval } ?? true
            let bound = listAll ? try await dummy.addresses() : lastBound!
            try await dummy.update(add: Array(desired.boundAddresses.subtracting(bound)), remove: [])
            steps.lap("bind")
            // A partial sync diffs only the virtual servers it re-read: every other one is as the
            // last sync left it, and still wanted as it is.
            let current: [VirtualServer], wanted: [VirtualServer.Key: VirtualServer]
            var untouched: [VirtualServer.Key: VirtualServer] = [:]
            if listAll {
                current = try ipvs.virtualServers(state.family)
                wanted = desired.virtualServers
                lastFullListing = start
            } else {
                let reread = try refreshed(desired: desired.virtualServers)
                current = reread.current
                wanted = desired.virtualServers.filter { reread.keys.contains($0.key) }
                untouched = (kernelTable ?? [:]).filter { !reread.keys.contains($0.key) }
            }
            let excluded = excludeCIDRs
            let operations = IPVSDiff.operations(desired: wanted, current: current) { key in
                !excluded.contains { $0.contains(key.address) }
            }
            steps.lap(listAll ? "list" : "reread")
            kernelTable = nil
            try ipvs.apply(operations)
            steps.lap("ipvs")
            try await iptables.restore(payload)
            steps.lap("iptables")
            try await dummy.update(add: [], remove: Array(bound.filter { $0.family == state.family }.subtracting(desired.boundAddresses)))
            let deletions = StaleConntrack.deletions(previous: lastApplied, current: state)
            if let conntrack, !deletions.isEmpty { _ = await conntrack.delete(deletions, family: state.family) }
            steps.lap("unbind")
            lastSets = desired.setEntries
            kernelTable = IPVSDiff.applying(operations, to: untouched.merging(current.map { ($0.key, $0) }, uniquingKeysWith: { _, fresh in fresh }))
            lastDesired = desired.virtualServers
            lastBound = desired.boundAddresses.union(bound.filter { $0.family != state.family })
            lastApplied = state
            lastOperations = operations
            lastSteps = steps
            needFullSync = false
            if full { fullSyncs += 1 } else { partialSyncs += 1 }
            let elapsed = clock.now - start
            logger.info("sync done", metadata: ["full": "\(full)", "duration": "\(elapsed)", "virtualServers": "\(desired.virtualServers.count)",
                                                "ipvsOperations": "\(operations.count)", "boundAddresses": "\(desired.boundAddresses.count)", "steps": "\(steps)"])
            return SyncOutcome(full: full, error: nil, duration: elapsed)
        } catch {
            failures += 1
            needFullSync = true
            logger.error("sync failed; the next sync will be full", metadata: ["full": "\(full)", "error": "\(error)"])
            return SyncOutcome(full: full, error: "\(error)", duration: clock.now - start)
        }
    }

    /// The cached table with fresh copies of the virtual servers that may differ from it: those
    /// whose desired state changed since the last sync, and those draining a real server (their
    /// connection counts decide when it goes).
    func refreshed(desired: [VirtualServer.Key: VirtualServer]) throws -> (keys: Set<VirtualServer.Key>, current: [VirtualServer]) {
        guard let table = kernelTable, let last = lastDesired else { return ([], []) }
        var refresh = Set(desired.filter { last[$0.key] != $0.value }.keys)
        refresh.formUnion(last.keys.filter { desired[$0] == nil })
        refresh.formUnion(table.filter { $0.value.realServers.contains { $0.weight == 0 } }.keys)
        return (refresh, try ipvs.virtualServers(refresh.sorted()))
    }

    public func report() -> ProxierReport { ProxierReport() }
}
