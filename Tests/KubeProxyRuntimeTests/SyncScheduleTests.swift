import KubeProxyRuntime
import Testing

/// The bounded-frequency rules, driven by instants the test chooses: no sleeping.
@Suite("Sync schedule: upstream's bounded-frequency rules")
struct SyncScheduleTests {
    static let t0 = ContinuousClock.now
    static func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int(seconds * 1000)) }
    static func schedule() -> SyncSchedule {
        SyncSchedule(minSyncPeriod: .seconds(1), syncPeriod: .seconds(30), fullSyncPeriod: .seconds(3600), start: t0)
    }

    @Test("the first sync is at once; then nothing until syncPeriod without changes")
    func firstAndPeriodic() {
        var s = Self.schedule()
        #expect(s.next(now: Self.at(0)) == .sync(forceFull: false))
        s.synced(at: Self.at(0), full: true)
        #expect(s.next(now: Self.at(0.1)) == .wait(until: Self.at(30)))
        // At syncPeriod the integrity check comes first, then the periodic sync.
        #expect(s.next(now: Self.at(30)) == .checkIntegrity)
        s.checked(at: Self.at(30), intact: true)
        #expect(s.next(now: Self.at(30)) == .sync(forceFull: false))
    }

    @Test("a change syncs at once, but not sooner than minSyncPeriod after the last sync")
    func minSyncPeriod() {
        var s = Self.schedule()
        s.synced(at: Self.at(0), full: true)
        s.changed()
        #expect(s.next(now: Self.at(0.2)) == .wait(until: Self.at(1)))
        #expect(s.next(now: Self.at(1)) == .sync(forceFull: false))
        s.synced(at: Self.at(5), full: false)
        s.changed()
        #expect(s.next(now: Self.at(6.5)) == .sync(forceFull: false), "long after the last sync: at once")
    }

    @Test("a failed integrity check makes a sync due at once (minSyncPeriod still holds)")
    func integrityFailure() {
        var s = Self.schedule()
        s.synced(at: Self.at(29.5), full: true)
        #expect(s.next(now: Self.at(30)) == .checkIntegrity)
        s.checked(at: Self.at(30), intact: false)
        #expect(s.next(now: Self.at(30)) == .wait(until: Self.at(30.5)))
        #expect(s.next(now: Self.at(30.5)) == .sync(forceFull: false))
        #expect(s.pending)
    }

    @Test("a full sync at least once per fullSyncPeriod, counted from the last full one")
    func hourlyFull() {
        var s = Self.schedule()
        var t = 0.0
        s.synced(at: Self.at(t), full: true)
        while t < 3600 {
            t += 30
            if s.next(now: Self.at(t)) == .checkIntegrity { s.checked(at: Self.at(t), intact: true) }
            guard case .sync(let forceFull) = s.next(now: Self.at(t)) else { Issue.record("no sync at \(t)"); return }
            #expect(forceFull == (t >= 3600), "at \(t) s")
            s.synced(at: Self.at(t), full: forceFull)
        }
        s.changed()
        #expect(s.next(now: Self.at(3601)) == .sync(forceFull: false), "the hour starts again")
    }

    @Test("a source that is not ready is asked again after its retry time, or at its next change")
    func notReady() {
        var s = Self.schedule()
        s.synced(at: Self.at(0), full: true)
        s.changed()
        #expect(s.next(now: Self.at(2)) == .sync(forceFull: false))
        s.notReady(retryAt: Self.at(3))
        #expect(s.next(now: Self.at(2.1)) == .wait(until: Self.at(3)))
        #expect(s.next(now: Self.at(3)) == .sync(forceFull: false))
        s.notReady(retryAt: Self.at(4))
        s.changed()
        #expect(s.next(now: Self.at(3.1)) == .sync(forceFull: false), "the writer's next change: at once")
    }

    @Test("a failed sync is retried after syncPeriod, not in a loop")
    func failureRetry() {
        var s = Self.schedule()
        s.synced(at: Self.at(0), full: false)
        #expect(s.next(now: Self.at(1)) == .wait(until: Self.at(30)))
    }
}

/// The coalescing wake-up the runner sleeps on.
@Suite("Change signal")
struct ChangeSignalTests {
    @Test("changes before a wait coalesce into one wake-up")
    func coalesces() async {
        let signal = ChangeSignal()
        signal.notify(); signal.notify(); signal.notify()
        #expect(await signal.wait())
        let clock = ContinuousClock()
        #expect(await signal.wait(until: clock.now + .milliseconds(20), clock: clock) == false, "consumed: the deadline wakes it")
    }

    @Test("a change wakes a waiter long before its deadline")
    func wakes() async {
        let signal = ChangeSignal()
        let clock = ContinuousClock()
        let start = clock.now
        let waiter = Task { await signal.wait(until: clock.now + .seconds(60), clock: clock) }
        try? await Task.sleep(for: .milliseconds(20))
        signal.notify()
        #expect(await waiter.value)
        #expect(clock.now - start < .seconds(10))
    }

    @Test("a cancelled wait leaves a later change for the next wait")
    func cancellation() async {
        let signal = ChangeSignal()
        let waiter = Task { await signal.wait() }
        waiter.cancel()
        #expect(await waiter.value == false)
        signal.notify()
        #expect(await signal.wait())
    }
}
