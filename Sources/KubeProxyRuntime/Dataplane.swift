import KubeProxyCore
import Logging

/// What one mode does for one IP family: turn a state into kernel writes, and tell whether what
/// it wrote is still there. Everything the modes share (when a sync is full, failures, conntrack
/// cleanup, timings, logs, counts) is ``SyncEngine``'s.
public protocol Dataplane: Actor {
    /// Writes `state` into the kernel: every Service port when `scope` is `.full`, otherwise the
    /// ports of the Services named. `steps` started with the sync; laps are added for each step.
    /// - Returns: the steps, and what the "sync done" log line says of this mode's work.
    /// - Throws: when a command or the kernel refused; the kernel keeps what it had, and the engine
    ///   makes the next sync full.
    func apply(_ state: ProxyState, scope: SyncScope, steps: SyncSteps) async throws -> DataplaneSync
    /// Whether a partial sync can start from what this dataplane remembers of the kernel.
    var canSyncPartially: Bool { get }
    /// What an outside change broke, cheaply (one read of the kernel, no rule-by-rule comparison);
    /// empty when intact. `sinceLastSync`: the last sync succeeded, so check what it wrote too
    /// (otherwise only what must always be there, such as the canary chain or the table).
    func integrityProblems(sinceLastSync: Bool) async -> [String]
    /// Counts for the metrics endpoint (the mode's own: rules, restore failures, ...).
    func report() -> ProxierReport
}

/// What a dataplane's apply did.
public struct DataplaneSync: Sendable {
    public var steps: SyncSteps
    /// Mode-specific figures for the "sync done" log line (rules written, operations, ...).
    public var details: Logger.Metadata

    public init(steps: SyncSteps, details: Logger.Metadata = [:]) {
        self.steps = steps
        self.details = details
    }
}

extension SyncScope {
    /// Whether every Service port is written.
    public var isFull: Bool { if case .full = self { true } else { false } }
}
