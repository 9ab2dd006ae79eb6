import Synchronization

/// "Something may have changed", coalesced: any number of ``notify()`` calls before a wait make
/// that wait return at once, and only once. The runner waits on it or on its next deadline,
/// whichever comes first, so nothing polls.
public final class ChangeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Bool, Never>?
    }
    private let state = Mutex(State())

    public init() {}

    /// Marks a change; wakes the waiter, if any.
    public func notify() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiter else { state.pending = true; return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: true)
    }

    /// Returns at the next change (at once if one is pending, which it consumes) or when the task
    /// is cancelled (a pending change is then left for the next wait).
    /// - Returns: whether a change woke it.
    @discardableResult
    public func wait() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now = state.withLock { state -> Bool? in
                    if state.pending { state.pending = false; return true }
                    if Task.isCancelled { return false }
                    state.waiter = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { state -> CheckedContinuation<Bool, Never>? in defer { state.waiter = nil }; return state.waiter }?.resume(returning: false)
        }
    }

    /// Returns at the next change or at `deadline` (nil: no deadline), whichever is first.
    /// - Returns: whether a change woke it (a change that races the deadline is never lost).
    @discardableResult
    public func wait<C: Clock>(until deadline: C.Instant?, clock: C) async -> Bool {
        guard let deadline else { return await wait() }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.wait() }
            group.addTask { try? await clock.sleep(until: deadline, tolerance: nil); return false }
            var changed = await group.next() ?? false
            group.cancelAll()
            for await other in group { changed = changed || other }
            return changed
        }
    }
}
