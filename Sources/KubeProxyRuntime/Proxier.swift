import KubeProxyCore
import KubeProxyModel

/// A dataplane's proxier: it programs the kernel for a state, one transaction per sync.
public protocol Proxier: Actor {
    /// Programs the kernel for `state`. `changedServices`: the Services (`namespace/name`) that
    /// may differ from the last state synced, from a change tracker (nil: compare the states).
    /// `steps` holds what came before (e.g. `inputs`); the sync's own steps are added for the log.
    @discardableResult
    func sync(_ state: ProxyState, changedServices: Set<String>?, steps: SyncSteps) async -> SyncOutcome
    /// Whether what we programmed is still there (cheap: one read of the kernel, no rule by rule
    /// comparison); when it is not, the reason is logged and the next sync is full.
    func checkIntegrity() async -> Bool
    /// Makes the next sync full.
    func forceFullSync() async
    /// Counts for the metrics endpoint.
    func report() async -> ProxierReport
    /// The counts of one family's proxier (a single-family proxier: its own).
    func report(family: IPFamily) async -> ProxierReport
}

extension Proxier {
    public func report(family: IPFamily) async -> ProxierReport { await report() }

    /// Programs the kernel for `state`.
    @discardableResult
    public func sync(_ state: ProxyState) async -> SyncOutcome { await sync(state, changedServices: nil, steps: SyncSteps()) }
}

/// How one sync went.
public struct SyncOutcome: Hashable, Sendable {
    public var full: Bool
    /// The error, when the sync failed.
    public var error: String?
    public var duration: Duration
    public var succeeded: Bool { error == nil }

    public init(full: Bool, error: String? = nil, duration: Duration) {
        self.full = full
        self.error = error
        self.duration = duration
    }
}
