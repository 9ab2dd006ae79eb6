import IPTablesRules
import KubeProxyCore
import KubeProxyModel

/// Compiles a ``ProxyState`` into the transaction kube-proxy's nftables mode sends for table
/// `kube-proxy` (family `ip` or `ip6`): verdict maps for service and NodePort lookups, `numgen`
/// endpoint choice, affinity sets, and the element diff of partial syncs.
public struct NFTablesCompiler: Sendable {
    public static let table = "kube-proxy"
    public let options: IPTablesCompilerOptions
    public let family: IPFamily

    public init(options: IPTablesCompilerOptions, family: IPFamily) {
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
    ///   - existingChains: chain names now in the kernel table (nil: unknown, no stale-chain flush).
    ///   - existingSets: set names now in the kernel table (unused affinity sets are deleted).
    public func compile(_ state: ProxyState, scope: IPTablesCompiler.Scope, previous: NFTablesMemory?,
                        existingChains: Set<String>?, existingSets: Set<String>?) -> NFTablesSyncPlan {
        let full = scope == .full || previous == nil
        var tx = NFTTransaction(family: nftFamily, table: Self.table)
        var desired = DesiredElements()
        if full {
            writeSetup(&tx, firstSync: previous == nil, existingSets: existingSets, serviceCIDRs: state.serviceCIDRs.map(\.description))
        }

        var chainOps = NFTTransaction(family: nftFamily, table: Self.table)
        var ruleOps = NFTTransaction(family: nftFamily, table: Self.table)
        var perService: [NFTTransaction] = []
        var active = Set<String>(), activeSets = Set<String>()
        var records: [ServicePortName: NFTablesMemory.ServiceRecord] = [:]
        records.reserveCapacity(state.services.count)
        for name in state.sortedServicePortNames {
            guard let svc = state.services[name] else { continue }
            let write: Bool
            switch scope {
            case .full: write = true
            case .partial(let changed): write = full || changed.contains(name.namespacedName)
            }
            // An unchanged Service port of a partial sync: the same chains, sets and elements as last time.
            if !write, let record = previous?.services[name] {
                record.replay(into: &desired, active: &active, activeSets: &activeSets)
                records[name] = record
                continue
            }
            let selection = EndpointSelection(service: svc, endpoints: state.endpoints[name] ?? [], nodeName: state.nodeName, nodeLabels: state.nodeLabels)
            var chains = NFTTransaction(family: nftFamily, table: Self.table), rules = chains
            var own = DesiredElements(), ownChains = Set<String>(), ownSets = Set<String>()
            writeService(svc, selection, write: write, chains: &chains, rules: &rules, elements: &own, active: &ownChains, activeSets: &ownSets)
            let record = NFTablesMemory.ServiceRecord(chains: ownChains, sets: ownSets, elements: own.ordered)
            record.replay(into: &desired, active: &active, activeSets: &activeSets)
            records[name] = record
            if chains.isEmpty && rules.isEmpty { continue }
            chainOps.append(chains)
            ruleOps.append(rules)
            chains.append(rules)
            perService.append(chains)
        }
        if !options.nodePortAddresses.matchAll {
            for ip in options.nodePortAddresses.matchingAddresses(options.hostAddresses) { desired.add(Self.nodePortIPs, ip.description) }
        }
        let setup = tx
        tx.append(chainOps)
        tx.append(ruleOps)

        let tailStart = tx.count
        // Elements: a full sync re-adds everything into flushed containers; a partial one diffs.
        var memory = desired.memory
        memory.services = records
        for container in DesiredElements.containers where full || memory.elements[container] != nil || previous?.elements[container] != nil {
            let want = memory.elements[container] ?? [:]
            let had = full ? [:] : (previous?.elements[container] ?? [:])
            for key in had.keys.sorted() where want[key] == nil {
                tx.delete(.element(container: container, key: key, value: had[key]!.value, comment: nil))
            }
            for key in desired.order[container] ?? [] {
                let element = want[key]!
                if let old = had[key] {
                    if old == element { continue }
                    tx.delete(.element(container: container, key: key, value: old.value, comment: nil))
                }
                tx.add(.element(container: container, key: key, value: element.value, comment: element.comment))
            }
        }

        // Chains nothing uses any more are flushed now and deleted by a later transaction.
        var stale: [String] = []
        for chain in (existingChains ?? []).subtracting(active).sorted() where NFTChainNames.isServiceChain(chain) {
            tx.flush(.chain(name: chain, base: nil, comment: nil))
            stale.append(chain)
        }
        for set in (existingSets ?? []).sorted() where set.hasPrefix("affinity-") && !activeSets.contains(set) {
            tx.delete(.set(name: set, type: addrType, flags: [], timeoutSeconds: nil, comment: nil))
        }
        var tail = NFTTransaction(family: nftFamily, table: Self.table)
        tail.append(operations: tx.operations[tailStart...])
        return NFTablesSyncPlan(transaction: tx, isFull: full, activeChains: active, activeAffinitySets: activeSets,
                                staleChains: stale, memory: memory, setup: setup, perService: perService, tail: tail)
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
