import Metrics
import Synchronization

/// Remembers counter levels (to turn a proxier's running totals into increments) and which
/// trigger times were already observed.
final class MetricLevels: Sendable {
    private struct State { var levels: [String: Int] = [:]; var triggers: [String: String] = [:] }
    private let state = Mutex(State())

    /// Raises `counter` to `level` (a proxier made anew starts again at 0: only rises count).
    func advance(_ counter: Counter, key: String, to level: Int) {
        let delta = state.withLock { s -> Int in
            let d = level - (s.levels[key] ?? 0)
            s.levels[key] = level
            return d
        }
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }

    /// Whether `trigger` differs from the last one seen for `slice` (and remembers it).
    func isNewTrigger(_ trigger: String, slice: String) -> Bool {
        state.withLock { s in
            if s.triggers[slice] == trigger { return false }
            s.triggers[slice] = trigger
            return true
        }
    }

    /// Forgets a slice that is gone.
    func forgetTrigger(slice: String) { state.withLock { s in s.triggers[slice] = nil } }
}
