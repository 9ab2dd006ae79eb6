import KubeProxyCore
import KubeProxyModel

/// Compiles a ``ProxyState`` into the transaction kube-proxy's nftables mode sends for table
/// `kube-proxy` (family `ip` or `ip6`): verdict maps for service and NodePort lookups, `numgen`
/// endpoint choice, affinity sets, and the element diff of partial syncs.
public struct NFTablesCompiler: Sendable {
    public static let table = "kube-proxy"
    public let options: ProxierOptions
    public let family: IPFamily

    public init(options: ProxierOptions, family: IPFamily) {
        self.options = options
        self.family = family
    }

    var nftFamily: String { family == .ipv4 ? "ip" : "ip6" }
    var ipX: String { family == .ipv4 ? "ip" : "ip6" }
    var addrType: String { family == .ipv4 ? "ipv4_addr" : "ipv6_addr" }
    var noLocalhost: String { family == .ipv4 ? "127.0.0.0/8" : "::1" }

    static let serviceIPs = "service-ips", serviceNodePorts = "service-nodeports", firewallIPs = "firewall-ips"
    static let noEndpointServices = "no-endpoint-services", noEndpointNodePorts = "no-endpoint-nodeports"
    static let clusterIPs = "cluster-ips", nodePortIPs = "nodeport-ips"

    /// Compiles `state`.
    /// - Parameters:
    ///   - previous: the memory of the last successful sync; nil for the proxier's first sync.
    ///   - existingChains: chain names now in the kernel table (full syncs flush the unused ones;
    ///     partial syncs know from `previous` which chains they stop using).
    ///   - existingSets: set names now in the kernel table (full syncs delete unused affinity sets).
    public func compile(_ state: ProxyState, scope: SyncScope, previous: NFTablesMemory?,
                        existingChains: Set<String>?, existingSets: Set<String>?) -> NFTablesSyncPlan {
        if case .partial(let changed) = scope, let previous {
            return compileChanges(state, changed: changed, previous: previous)
        }
        var tx = NFTTransaction(family: nftFamily, table: Self.table)
        var desired = DesiredElements()
        writeSetup(&tx, firstSync: previous == nil, existingSets: existingSets, serviceCIDRs: state.serviceCIDRs.map(\.description))

        var chainOps = NFTTransaction(family: nftFamily, table: Self.table)
        var ruleOps = NFTTransaction(family: nftFamily, table: Self.table)
        var perService: [NFTTransaction] = []
        var active = Set<String>(), activeSets = Set<String>()
        var records: [ServicePortName: NFTablesMemory.ServiceRecord] = [:]
        records.reserveCapacity(state.services.count)
        for name in state.sortedServicePortNames {
            guard let svc = state.services[name] else { continue }
            let (record, chains, rules) = service(svc, state, existingSets: existingSets)
            active.formUnion(record.chains)
            activeSets.formUnion(record.sets)
            for e in record.elements { desired.add(e.container, e.key, value: e.value, comment: e.comment) }
            records[name] = record
            if chains.isEmpty && rules.isEmpty { continue }
            chainOps.append(chains)
            ruleOps.append(rules)
            perService.append(chains.appending(rules))
        }
        for ip in nodePortIPs { desired.add(Self.nodePortIPs, ip) }
        let setup = tx
        tx.append(chainOps)
        tx.append(ruleOps)

        let tailStart = tx.count
        // Every container was flushed: every element is added again.
        var memory = desired.memory
        memory.services = records
        memory.chains = active
        memory.affinitySets = activeSets
        for container in DesiredElements.containers {
            let want = memory.elements[container] ?? [:]
            for key in desired.order[container] ?? [] {
                let element = want[key]!
                tx.add(.element(container: container, key: key, value: element.value, comment: element.comment))
            }
        }

        // Chains nothing uses any more are flushed now and deleted by a later transaction.
        var stale: [String] = []
        for chain in (existingChains ?? []).subtracting(active).sorted() where NFTChainNames.isServiceChain(chain) {
            tx.flush(.chain(name: chain, base: nil, comment: nil))
            stale.append(chain)
        }
        for set in (existingSets ?? []).sorted() where NFTChainNames.isServiceSet(set) && !activeSets.contains(set) {
            tx.delete(.set(name: set, type: addrType, flags: [], timeoutSeconds: nil, comment: nil))
        }
        var tail = NFTTransaction(family: nftFamily, table: Self.table)
        tail.append(operations: tx.operations[tailStart...])
        return NFTablesSyncPlan(transaction: tx, isFull: true, staleChains: stale, memory: memory, setup: setup, perService: perService, tail: tail)
    }

    /// One Service port: what it contributes, and the operations that write its sets, chains and rules
    /// (endpoint maps, created and filled, last among `chains`).
    func service(_ svc: ServicePortInfo, _ state: ProxyState, existingSets: Set<String>?) -> (NFTablesMemory.ServiceRecord, chains: NFTTransaction, rules: NFTTransaction) {
        let (record, chains, rules, maps) = serviceParts(svc, state, existingSets: existingSets)
        return (record, chains.appending(maps), rules)
    }

    /// ``service(_:_:)`` with the endpoint maps' operations apart; the record's digests tell a
    /// partial sync whether the chains or only the maps changed. An endpoint map not among
    /// `existingSets` (nil: not known) is new and is not flushed: each kernel operation on a named
    /// set first finds it in a list of every set of the table.
    func serviceParts(_ svc: ServicePortInfo, _ state: ProxyState,
                      existingSets: Set<String>?) -> (NFTablesMemory.ServiceRecord, chains: NFTTransaction, rules: NFTTransaction, maps: NFTTransaction) {
        let selection = EndpointSelection(service: svc, state: state)
        var chains = NFTTransaction(family: nftFamily, table: Self.table), rules = chains, maps = chains
        var own = DesiredElements(), ownChains = Set<String>(), ownSets = Set<String>()
        writeService(svc, selection, chains: &chains, rules: &rules, maps: &maps, elements: &own, active: &ownChains, activeSets: &ownSets)
        var record = NFTablesMemory.ServiceRecord(chains: ownChains, sets: ownSets, elements: own.ordered)
        if !maps.isEmpty {
            var hasher = Hasher()
            hasher.combine(chains)
            hasher.combine(rules)
            record.rulesDigest = hasher.finalize()
            record.mapsDigest = maps.hashValue
        }
        guard let existingSets else { return (record, chains, rules, maps) }
        var written = NFTTransaction(family: nftFamily, table: Self.table)
        written.append(operations: maps.operations.filter { op in
            if op.verb == .flush, case .map(let name, _, _) = op.object { existingSets.contains(name) } else { true }
        }[...])
        return (record, chains, rules, written)
    }

    /// The addresses that accept NodePort traffic when `nodePortAddresses` names some.
    var nodePortIPs: [String] {
        options.nodePortAddresses.matchAll ? [] : options.nodePortAddresses.matchingAddresses(options.hostAddresses).map(\.description)
    }

    /// The transaction that deletes `chains` (stale for long enough that the kernel lets them go).
    public func deleteChains(_ chains: [String]) -> NFTTransaction {
        var tx = NFTTransaction(family: nftFamily, table: Self.table)
        for chain in chains { tx.delete(.chain(name: chain, base: nil, comment: nil)) }
        return tx
    }

    /// The transaction that removes the table (`cleanup`).
    public func deleteTable() -> NFTTransaction {
        var tx = NFTTransaction(family: nftFamily, table: Self.table)
        tx.add(.table(comment: nil))
        tx.delete(.table(comment: nil))
        return tx
    }
}
