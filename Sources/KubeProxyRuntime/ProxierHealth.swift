import Foundation
import Synchronization

/// Upstream's proxier health (`ProxierHealthServer`): healthy while no queued change has waited
/// longer than `timeout` (2 × syncPeriod upstream) without a sync; `lastUpdated` is the last
/// successful sync. `/healthz` also reports whether this node may take traffic (not being deleted).
public final class ProxierHealth: Sendable {
    public let timeout: Duration
    private struct State {
        var lastUpdated: Date?
        var oldestPendingQueued: Date?
        var nodeEligible = true
    }
    private let state = Mutex(State())

    public init(timeout: Duration) { self.timeout = timeout }

    /// A change arrived that a sync has not programmed yet.
    public func queued(at now: Date = Date()) {
        state.withLock { if $0.oldestPendingQueued == nil { $0.oldestPendingQueued = now } }
    }

    /// A sync programmed everything queued so far.
    public func updated(at now: Date = Date()) {
        state.withLock {
            $0.lastUpdated = now
            $0.oldestPendingQueued = nil
        }
    }

    /// Whether the node can take traffic (upstream: false once it is being deleted).
    public func setNodeEligible(_ eligible: Bool) { state.withLock { $0.nodeEligible = eligible } }

    /// Healthy, and the last update time.
    public func check(now: Date = Date()) -> (healthy: Bool, lastUpdated: Date?, nodeEligible: Bool) {
        state.withLock { s in
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            let late = s.oldestPendingQueued.map { now.timeIntervalSince($0) >= seconds } ?? false
            return (!late, s.lastUpdated, s.nodeEligible)
        }
    }

    /// The `/healthz` (or `/livez`) answer: status code and upstream's JSON body.
    public func response(livez: Bool, now: Date = Date()) -> (status: Int, body: String) {
        let (healthy, lastUpdated, eligible) = check(now: now)
        let ok = healthy && (livez || eligible)
        let body = livez
            ? "{\"lastUpdated\": \"\(Self.goTime(lastUpdated))\",\"currentTime\": \"\(Self.goTime(now))\"}"
            : "{\"lastUpdated\": \"\(Self.goTime(lastUpdated))\",\"currentTime\": \"\(Self.goTime(now))\", \"nodeEligible\": \(eligible)}"
        return (ok ? 200 : 503, body)
    }

    /// Go's `time.Time.String()` in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC` (the zero time when nil).
    static func goTime(_ date: Date?) -> String {
        guard let date else { return "0001-01-01 00:00:00 +0000 UTC" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let nanos = Int((date.timeIntervalSince1970 - floor(date.timeIntervalSince1970)) * 1e9)
        var fraction = nanos == 0 ? "" : String(format: ".%09d", nanos)
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return formatter.string(from: date) + fraction + " +0000 UTC"
    }
}
