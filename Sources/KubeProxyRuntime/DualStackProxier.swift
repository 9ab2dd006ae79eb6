import KubeProxyCore
import KubeProxyModel

/// One proxier per IP family behind one ``Proxier`` (upstream's metaproxier): each state goes to
/// its family's proxier; the integrity check and a forced full sync reach every family, and a
/// failure in one family never stops the other.
public actor DualStackProxier: Proxier {
    /// The families' proxiers, the primary first.
    public let proxiers: [(family: IPFamily, proxier: any Proxier)]

    public init(_ proxiers: [(family: IPFamily, proxier: any Proxier)]) {
        self.proxiers = proxiers
    }

    /// Syncs `state` with its family's proxier.
    @discardableResult
    public func sync(_ state: ProxyState, changedServices: Set<String>?, steps: SyncSteps) async -> SyncOutcome {
        guard let proxier = proxiers.first(where: { $0.family == state.family })?.proxier else {
            return SyncOutcome(full: true, error: "no proxier for \(state.family.rawValue)", duration: .zero)
        }
        return await proxier.sync(state, changedServices: changedServices, steps: steps)
    }

    /// Every family's check runs (each repairs its own); intact only when all are.
    public func checkIntegrity() async -> Bool {
        var intact = true
        for entry in proxiers where !(await entry.proxier.checkIntegrity()) { intact = false }
        return intact
    }

    public func forceFullSync() async {
        for entry in proxiers { await entry.proxier.forceFullSync() }
    }

    /// The counts of `family`'s proxier.
    public func report(family: IPFamily) async -> ProxierReport {
        await proxiers.first(where: { $0.family == family })?.proxier.report() ?? ProxierReport()
    }

    /// The families' counts added up (rules, failures, Services without local endpoints).
    public func report() async -> ProxierReport {
        var total = ProxierReport()
        for entry in proxiers {
            let r = await entry.proxier.report()
            func add(_ a: Int?, _ b: Int?) -> Int? { a == nil && b == nil ? nil : (a ?? 0) + (b ?? 0) }
            total.iptablesNATTotal = add(total.iptablesNATTotal, r.iptablesNATTotal)
            total.iptablesNATLast = add(total.iptablesNATLast, r.iptablesNATLast)
            total.iptablesFilterTotal = add(total.iptablesFilterTotal, r.iptablesFilterTotal)
            total.restoreFailures = add(total.restoreFailures, r.restoreFailures)
            total.partialRestoreFailures = add(total.partialRestoreFailures, r.partialRestoreFailures)
            total.nftablesSyncFailures = add(total.nftablesSyncFailures, r.nftablesSyncFailures)
            total.noLocalEndpointsInternal += r.noLocalEndpointsInternal
            total.noLocalEndpointsExternal += r.noLocalEndpointsExternal
        }
        return total
    }
}
