/// When the runner syncs, checks the kernel, or waits: upstream's bounded-frequency rules as a
/// value with no clock of its own (the caller passes `now`), so they are tested without sleeping.
///
/// - A change is synced at once, but syncs start at most once per `minSyncPeriod`.
/// - Without changes, a sync at least once per `syncPeriod` (also the retry after a failure).
/// - The integrity check once per `syncPeriod`; when it fails, a sync at once.
/// - A full sync at least once per `fullSyncPeriod` (upstream: hourly).
/// - Sources that are not ready are asked again at `retryAt`, not before.
public struct SyncSchedule: Sendable {
    public typealias Instant = ContinuousClock.Instant

    /// What to do now.
    public enum Action: Hashable, Sendable {
        /// Sync; `forceFull` when the full-sync period has passed.
        case sync(forceFull: Bool)
        case checkIntegrity
        /// Nothing is due before this instant (or an earlier change).
        case wait(until: Instant)
    }

    public var minSyncPeriod: Duration
    public var syncPeriod: Duration
    public var fullSyncPeriod: Duration
    /// A change is known that no sync has taken in yet.
    public private(set) var pending = true
    public private(set) var lastSync: Instant?
    private var lastFull: Instant
    private var lastCheck: Instant
    private var retryAt: Instant?

    public init(minSyncPeriod: Duration, syncPeriod: Duration, fullSyncPeriod: Duration = .seconds(3600), start: Instant) {
        self.minSyncPeriod = minSyncPeriod
        self.syncPeriod = syncPeriod
        self.fullSyncPeriod = fullSyncPeriod
        lastFull = start
        lastCheck = start
    }

    public func next(now: Instant) -> Action {
        if now >= lastCheck + syncPeriod { return .checkIntegrity }
        let fullDue = now >= lastFull + fullSyncPeriod
        let due = pending || fullDue || lastSync.map { now >= $0 + syncPeriod } ?? true
        // The earliest a sync may start: minSyncPeriod after the last, and not before a retry time.
        let earliest = [lastSync.map { $0 + minSyncPeriod }, retryAt].compactMap { $0 }.max()
        if due, earliest.map({ now >= $0 }) ?? true { return .sync(forceFull: fullDue) }
        let syncAt = due ? earliest! : min(lastSync! + syncPeriod, lastFull + fullSyncPeriod)
        return .wait(until: min(syncAt, lastCheck + syncPeriod))
    }

    /// The objects changed (a source that was not ready may be now: no waiting for its retry time).
    public mutating func changed() {
        pending = true
        retryAt = nil
    }

    /// A sync started at `at` took in every change so far and was `full` (a failed sync makes the
    /// proxier's next one full by itself; it is retried after `syncPeriod`).
    public mutating func synced(at: Instant, full: Bool) {
        pending = false
        lastSync = at
        retryAt = nil
        if full { lastFull = at }
    }

    /// The source was not ready: keep the change pending and ask again at `retryAt`.
    public mutating func notReady(retryAt: Instant) {
        pending = true
        self.retryAt = retryAt
    }

    /// The integrity check ran at `at`; when it failed, the next sync is due at once.
    public mutating func checked(at: Instant, intact: Bool) {
        lastCheck = at
        if !intact { pending = true }
    }
}
