import IPTablesRules
import IPVSRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging

/// IPVS mode: ``SyncEngine`` on the IPVS dataplane.
public typealias IPVSProxier = SyncEngine<IPVSDataplane>

extension SyncEngine where Plane == IPVSDataplane {
    public init(ipvs: IPVSKernel, iptables: any IPTablesInterface, ipset: IPSetCommands, dummy: DummyInterface,
                options: IPTablesCompilerOptions, scheduler: String = "rr", excludeCIDRs: [CIDR] = [],
                conntrack: (any ConntrackCleaner)? = nil, fullListingInterval: Duration = .seconds(60),
                localAddresses: @escaping @Sendable () -> [IPAddress] = { HostFacts.interfaceAddresses(excluding: DummyInterface.defaultName) },
                logger: Logger = Logger(label: "swift-kube-proxy.ipvs")) {
        self.init(dataplane: IPVSDataplane(ipvs: ipvs, iptables: iptables, ipset: ipset, dummy: dummy, options: options, scheduler: scheduler,
                                           excludeCIDRs: excludeCIDRs, fullListingInterval: fullListingInterval, localAddresses: localAddresses),
                  conntrack: conntrack, logger: logger)
    }
}

/// The IPVS dataplane. Each sync computes everything it wants (virtual servers, kube-ipvs0
/// addresses, ipset entries, iptables rules) and brings the kernel there, in upstream's order:
/// jump rules, the dummy interface, ipsets, addresses, virtual and real servers (diffed against the
/// kernel's own table, with graceful termination), `iptables-restore`, then the addresses no longer
/// wanted. After a failure the engine's next sync is full: every ipset rewritten and the jumps re-ensured.
public actor IPVSDataplane: Dataplane {
    let ipvs: IPVSKernel
    let iptables: any IPTablesInterface
    let ipset: IPSetCommands
    let dummy: DummyInterface
    let options: IPTablesCompilerOptions
    let scheduler: String
    let excludeCIDRs: [CIDR]
    /// This namespace's addresses outside kube-ipvs0 (NodePort addresses; externals already local).
    let localAddresses: @Sendable () -> [IPAddress]

    /// The IPVS operations of the last sync.
    public private(set) var lastOperations: [IPVSOperation] = []
    /// The family this dataplane programs: its iptables binary's (ipsets, virtual servers, addresses).
    nonisolated var family: IPFamily { iptables.family }
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
                fullListingInterval: Duration = .seconds(60),
                localAddresses: @escaping @Sendable () -> [IPAddress] = { HostFacts.interfaceAddresses(excluding: DummyInterface.defaultName) }) {
        self.ipvs = ipvs
        self.iptables = iptables
        self.ipset = ipset
        self.dummy = dummy
        self.options = options
        self.scheduler = scheduler.isEmpty ? "rr" : scheduler
        self.excludeCIDRs = excludeCIDRs
        self.fullListingInterval = fullListingInterval
        self.localAddresses = localAddresses
    }

    public var canSyncPartially: Bool { true }

    /// KUBE-SERVICES and kube-ipvs0, and since the last sync what it left: the addresses bound,
    /// every wanted virtual server, every ipset's entry count (one netlink dump, one `ip` and one
    /// `ipset` call).
    public func integrityProblems(sinceLastSync: Bool) async -> [String] {
        var problems: [String] = []
        if !(await iptables.chainExists(table: "nat", chain: "KUBE-SERVICES")) { problems.append("nat KUBE-SERVICES is gone") }
        if !(await dummy.exists()) { problems.append("\(dummy.name) is gone") }
        if problems.isEmpty, sinceLastSync, let desired = lastDesired, let bound = lastBound, let sets = lastSets {
            do {
                let (ipvs, family) = (ipvs, family)
                let present = Set(try await BlockingIO.run { try ipvs.virtualServers(family) }.map(\.key))
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
        return problems
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

    public func apply(_ state: ProxyState, scope: SyncScope, steps: SyncSteps) async throws -> DataplaneSync {
        var steps = steps
        let full = scope.isFull, start = ContinuousClock.now
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
            let (ipvs, family) = (ipvs, state.family)
            current = try await BlockingIO.run { try ipvs.virtualServers(family) }
            wanted = desired.virtualServers
            lastFullListing = start
        } else {
            let reread = try await refreshed(desired: desired.virtualServers)
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
        let ipvs = ipvs
        try await BlockingIO.run { try ipvs.apply(operations) }
        steps.lap("ipvs")
        try await iptables.restore(payload)
        steps.lap("iptables")
        try await dummy.update(add: [], remove: Array(bound.filter { $0.family == state.family }.subtracting(desired.boundAddresses)))
        steps.lap("unbind")
        lastSets = desired.setEntries
        kernelTable = IPVSDiff.applying(operations, to: untouched.merging(current.map { ($0.key, $0) }, uniquingKeysWith: { _, fresh in fresh }))
        lastDesired = desired.virtualServers
        lastBound = desired.boundAddresses.union(bound.filter { $0.family != state.family })
        lastOperations = operations
        return DataplaneSync(steps: steps, details: ["virtualServers": "\(desired.virtualServers.count)", "ipvsOperations": "\(operations.count)",
                                                    "boundAddresses": "\(desired.boundAddresses.count)"])
    }

    /// The cached table with fresh copies of the virtual servers that may differ from it: those
    /// whose desired state changed since the last sync, and those draining a real server (their
    /// connection counts decide when it goes).
    func refreshed(desired: [VirtualServer.Key: VirtualServer]) async throws -> (keys: Set<VirtualServer.Key>, current: [VirtualServer]) {
        guard let table = kernelTable, let last = lastDesired else { return ([], []) }
        var refresh = Set(desired.filter { last[$0.key] != $0.value }.keys)
        refresh.formUnion(last.keys.filter { desired[$0] == nil })
        refresh.formUnion(table.filter { $0.value.realServers.contains { $0.weight == 0 } }.keys)
        let (ipvs, keys) = (ipvs, refresh.sorted())
        return (refresh, try await BlockingIO.run { try ipvs.virtualServers(keys) })
    }

    public func report() -> ProxierReport { ProxierReport() }
}
