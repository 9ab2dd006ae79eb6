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
