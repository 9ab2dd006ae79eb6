import KubeProxyCore

/// A dataplane's proxier: it programs the kernel for a state, one transaction per sync.
public protocol Proxier: Actor {
    /// Programs the kernel for `state`.
    @discardableResult
    func sync(_ state: ProxyState) async -> SyncOutcome
    /// Whether what we programmed is still there (cheap: one read of the kernel, no rule by rule
    /// comparison); when it is not, the reason is logged and the next sync is full.
    func checkIntegrity() async -> Bool
    /// Makes the next sync full.
    func forceFullSync() async
    /// Counts for the metrics endpoint.
    func report() async -> ProxierReport
}

extension IPTablesProxier: Proxier {}
