import KubeProxyCore

extension NFTablesCompiler {
    /// A partial sync: only the ports of `changed` Services are computed and written. Everything
    /// else is taken from `previous` as it is (no rehashing of 100k chain names or element keys),
    /// so the cost follows the change, not the table.
    ///
    /// Elements: each container's deletions first (sorted by key), then additions and replacements
    /// in Service order, as a full recomputation and diff would write them. A key several ports
    /// want (a multi-port Service's ClusterIP) goes only when the last of them stops wanting it.
    func compileChanges(_ state: ProxyState, changed: Set<String>, previous: NFTablesMemory) -> NFTablesSyncPlan {
        var memory = previous
        var chainOps = NFTTransaction(family: nftFamily, table: Self.table)
        var ruleOps = NFTTransaction(family: nftFamily, table: Self.table)
        var perService: [NFTTransaction] = []
        var stale = Set<String>(), unusedSets = Set<String>()
        // What the changed ports contributed before, and contribute now, as (container, key) counts.
        var before: [String: [String: Int]] = [:], after: [String: [String: Int]] = [:]
        var wanted: [String: [(key: String, element: NFTablesMemory.Element)]] = [:]

        let affected = Set(state.services.keys.filter { changed.contains($0.namespacedName) })
            .union(previous.services.keys.filter { changed.contains($0.namespacedName) })
        for name in affected.sorted() {
            let old = previous.services[name]
            for e in old?.elements ?? [] { before[e.container, default: [:]][e.key, default: 0] += 1 }
            guard let svc = state.services[name] else {
                // A port that is gone: its chains go stale, its sets and elements go.
                memory.services[name] = nil
                if let old { stale.formUnion(old.chains); unusedSets.formUnion(old.sets) }
                continue
            }
            let (record, chains, rules, maps) = serviceParts(svc, state, existingSets: previous.affinitySets)
            memory.services[name] = record
            if let old {
                stale.formUnion(old.chains.subtracting(record.chains))
                unusedSets.formUnion(old.sets.subtracting(record.sets))
            }
            for e in record.elements {
                after[e.container, default: [:]][e.key, default: 0] += 1
                wanted[e.container, default: []].append((e.key, NFTablesMemory.Element(value: e.value, comment: e.comment)))
            }
            if let old, let digest = record.rulesDigest, old.rulesDigest == digest, old.chains == record.chains, old.sets == record.sets {
                // Same chains and rules (endpoint-maps layout): only the endpoint maps' elements, if they changed.
                if old.mapsDigest != record.mapsDigest {
                    var elements = NFTTransaction(family: nftFamily, table: Self.table)
                    elements.append(operations: maps.operations.filter { $0.verb != .add || !$0.object.isContainer }[...])
                    chainOps.append(elements)
                    perService.append(elements)
                }
                continue
            }
            if chains.isEmpty && rules.isEmpty && maps.isEmpty { continue }
            chainOps.append(chains.appending(maps))
            ruleOps.append(rules)
            perService.append(chains.appending(maps).appending(rules))
        }
        // Chains and sets another changed port took over stay.
        for name in affected { if let record = memory.services[name] { stale.subtract(record.chains); unusedSets.subtract(record.sets) } }
        memory.chains.subtract(stale)
        memory.affinitySets.subtract(unusedSets)
        for name in affected { if let record = memory.services[name] { memory.chains.formUnion(record.chains); memory.affinitySets.formUnion(record.sets) } }

        var tx = chainOps
        tx.append(ruleOps)
        let tailStart = tx.count
        for container in DesiredElements.containers {
            if container == Self.nodePortIPs {
                writeNodePortIPs(into: &tx, memory: &memory)
                continue
            }
            var current = memory.elements[container] ?? [:]
            var shared = memory.sharedKeys[container] ?? [:]
            let gone = before[container] ?? [:], now = after[container] ?? [:]
            var firstWanted: [String: NFTablesMemory.Element] = [:]
            for (key, element) in wanted[container] ?? [] where firstWanted[key] == nil { firstWanted[key] = element }
            // What each touched key should hold now (nil: nothing).
            var target: [String: NFTablesMemory.Element?] = [:]
            for key in Set(gone.keys).union(now.keys) {
                let was = current[key] == nil ? 0 : 1 + (shared[key] ?? 0)
                let will = was - (gone[key] ?? 0) + (now[key] ?? 0)
                if was <= 1 && will <= 1 {
                    target[key] = .some(will == 1 ? firstWanted[key] : nil)
                    shared[key] = nil
                } else if Self.plainContainers.contains(container) {
                    // Elements without value or comment: any contributor writes the same one, so counting is enough.
                    target[key] = .some(will > 0 ? NFTablesMemory.Element(value: nil, comment: nil) : nil)
                    shared[key] = will > 1 ? will - 1 : nil
                } else {
                    // Wanted by several ports (of this or other Services): the first port in order wins, as in a full sync.
                    let contributors = Self.contributors(of: key, in: container, memory.services)
                    target[key] = .some(contributors.first?.element)
                    shared[key] = contributors.count > 1 ? contributors.count - 1 : nil
                }
            }
            for key in target.keys.sorted() where target[key]! == nil {
                if let old = current.removeValue(forKey: key) { tx.delete(.element(container: container, key: key, value: old.value, comment: nil)) }
            }
            var order = (wanted[container] ?? []).map(\.key)
            order += target.keys.filter { firstWanted[$0] == nil && target[$0]! != nil }.sorted()
            var written = Set<String>()
            for key in order where written.insert(key).inserted {
                guard let element = target[key]! else { continue }
                if let old = current[key] {
                    if old == element { continue }
                    tx.delete(.element(container: container, key: key, value: old.value, comment: nil))
                }
                current[key] = element
                tx.add(.element(container: container, key: key, value: element.value, comment: element.comment))
            }
            memory.elements[container] = current.isEmpty ? nil : current
            memory.sharedKeys[container] = shared.isEmpty ? nil : shared
        }
        let staleChains = stale.filter { NFTChainNames.isServiceChain($0) }.sorted()
        for chain in staleChains { tx.flush(.chain(name: chain, base: nil, comment: nil)) }
        for set in unusedSets.sorted() { tx.delete(.set(name: set, type: addrType, flags: [], timeoutSeconds: nil, comment: nil)) }
        var tail = NFTTransaction(family: nftFamily, table: Self.table)
        tail.append(operations: tx.operations[tailStart...])
        return NFTablesSyncPlan(transaction: tx, isFull: false, staleChains: staleChains, memory: memory, setup: NFTTransaction(family: nftFamily, table: Self.table),
                                perService: perService, tail: tail)
    }

    /// Sets whose elements never carry a value or a comment (a ClusterIP several ports share, an
    /// endpoint several Services share).
    static let plainContainers: Set<String> = [clusterIPs, endpointHairpin]

    /// The ports that want `key` in `container`, first in Service order first (a scan of every
    /// port: only for keys several ports want in containers whose elements differ, rare).
    static func contributors(of key: String, in container: String,
                             _ services: [ServicePortName: NFTablesMemory.ServiceRecord]) -> [(name: ServicePortName, element: NFTablesMemory.Element)] {
        var found: [(name: ServicePortName, element: NFTablesMemory.Element)] = []
        for (name, record) in services {
            if let e = record.elements.first(where: { $0.container == container && $0.key == key }) {
                found.append((name, NFTablesMemory.Element(value: e.value, comment: e.comment)))
            }
        }
        return found.sorted { $0.name < $1.name }
    }

    /// `nodeport-ips` follows the host's addresses, not Services: diffed whole (a few elements).
    private func writeNodePortIPs(into tx: inout NFTTransaction, memory: inout NFTablesMemory) {
        let had = memory.elements[Self.nodePortIPs] ?? [:]
        let want = nodePortIPs
        for key in had.keys.sorted() where !want.contains(key) {
            tx.delete(.element(container: Self.nodePortIPs, key: key, value: nil, comment: nil))
        }
        var now: [String: NFTablesMemory.Element] = [:]
        for key in want {
            now[key] = NFTablesMemory.Element(value: nil, comment: nil)
            if had[key] == nil { tx.add(.element(container: Self.nodePortIPs, key: key, value: nil, comment: nil)) }
        }
        memory.elements[Self.nodePortIPs] = now.isEmpty ? nil : now
    }
}
