/// The operations that take the kernel's IPVS table (as listed) to the desired one.
///
/// Graceful termination as upstream, but derived from the kernel's own counters on every sync
/// instead of a side list: a real server that is no longer wanted is deleted at once when its
/// protocol is UDP or SCTP or it has no connections; a TCP one with connections is drained
/// (weight 0) and deleted by a later sync once its connections reach zero. A wanted real server
/// found at weight 0 (drained before, or left so by a restart: a known upstream bug) is set back
/// to weight 1 (upstream re-adds it).
public enum IPVSDiff {
    /// - Parameters:
    ///   - current: the kernel's virtual servers of this family with their real servers.
    ///   - owned: whether a current virtual server is ours to delete (e.g. not in excludeCIDRs).
    public static func operations(desired: [VirtualServer.Key: VirtualServer], current: [VirtualServer],
                                  owned: (VirtualServer.Key) -> Bool = { _ in true }) -> [IPVSOperation] {
        var ops: [IPVSOperation] = []
        let existing = Dictionary(current.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for key in desired.keys.sorted() {
            let want = desired[key]!
            guard let have = existing[key] else {
                ops.append(.addService(want))
                for rs in want.realServers { ops.append(.addDestination(key, rs)) }
                continue
            }
            if !want.sameSettings(as: have) { ops.append(.updateService(want)) }
            // The common case, cheaply: the same real servers at the same weights.
            if want.realServers.count == have.realServers.count,
               zip(want.realServers, have.realServers).allSatisfy({ $0.address == $1.address && $0.port == $1.port && $0.weight == $1.weight }) {
                continue
            }
            let haveByEndpoint = Dictionary(have.realServers.map { ($0.endpoint, $0) }, uniquingKeysWith: { a, _ in a })
            let wantEndpoints = Set(want.realServers.map(\.endpoint))
            for rs in want.realServers {
                if let old = haveByEndpoint[rs.endpoint] {
                    if old.weight != rs.weight { ops.append(.updateDestination(key, rs)) }
                } else {
                    ops.append(.addDestination(key, rs))
                }
            }
            for old in have.realServers.sorted() where !wantEndpoints.contains(old.endpoint) {
                ops += retire(old, of: key)
            }
        }
        for have in current.sorted(by: { $0.key < $1.key }) where desired[have.key] == nil && owned(have.key) {
            ops.append(.deleteService(have.key))
        }
        return ops
    }

    /// Removing one real server: at once, or drained first (TCP with connections).
    static func retire(_ rs: RealServer, of key: VirtualServer.Key) -> [IPVSOperation] {
        let needsGrace = key.protocol == .tcp && rs.activeConnections + rs.inactiveConnections > 0
        guard needsGrace else { return [.deleteDestination(key, rs)] }
        if rs.weight == 0 { return [] }   // already draining
        var drained = rs
        drained.weight = 0
        return [.updateDestination(key, drained)]
    }
}

extension IPVSDiff {
    /// The table the kernel holds after `operations` were applied to `table` (connection counters
    /// kept for real servers that stay): what a partial sync can start from instead of listing.
    public static func applying(_ operations: [IPVSOperation], to table: [VirtualServer.Key: VirtualServer]) -> [VirtualServer.Key: VirtualServer] {
        var result = table
        for op in operations {
            switch op {
            case .addService(let vs):
                var added = vs
                added.realServers = []
                result[vs.key] = added
            case .updateService(let vs):
                result[vs.key]?.scheduler = vs.scheduler
                result[vs.key]?.flags = vs.flags
                result[vs.key]?.timeout = vs.timeout
            case .deleteService(let key):
                result[key] = nil
            case .addDestination(let key, let rs):
                result[key]?.realServers.append(RealServer(address: rs.address, port: rs.port, weight: rs.weight))
                result[key]?.realServers.sort()
            case .updateDestination(let key, let rs):
                if let i = result[key]?.realServers.firstIndex(where: { $0.endpoint == rs.endpoint }) { result[key]?.realServers[i].weight = rs.weight }
            case .deleteDestination(let key, let rs):
                result[key]?.realServers.removeAll { $0.endpoint == rs.endpoint }
            }
        }
        return result
    }
}
