import Foundation
import KubeProxyModel
import Synchronization

/// Upstream's proxy health (`ProxyHealthServer`), per IP family as upstream since 1.33: healthy
/// while no family has a queued change waiting longer than `timeout` (2 × syncPeriod upstream)
/// for its sync; `lastUpdated` is the latest successful sync of any family (of the late one when
/// unhealthy). `/healthz` also reports whether this node may take traffic (``Node/isEligible``).
public final class ProxierHealth: Sendable {
    public let timeout: Duration
    private struct State {
        var lastUpdated: [IPFamily: Date] = [:]
        var oldestPendingQueued: [IPFamily: Date] = [:]
        var nodeEligible = true
    }
    private let state = Mutex(State())

    public init(timeout: Duration) { self.timeout = timeout }

    /// A change arrived that `family`'s sync has not programmed yet.
    public func queued(_ family: IPFamily, at now: Date = Date()) {
        state.withLock { if $0.oldestPendingQueued[family] == nil { $0.oldestPendingQueued[family] = now } }
    }

    /// `family`'s sync programmed everything queued for it so far.
    public func updated(_ family: IPFamily, at now: Date = Date()) {
        state.withLock {
            $0.lastUpdated[family] = now
            $0.oldestPendingQueued[family] = nil
        }
    }

    /// Whether the node can take traffic (``Node/isEligible``).
    public func setNodeEligible(_ eligible: Bool) { state.withLock { $0.nodeEligible = eligible } }

    /// Healthy, and the last update time.
    public func check(now: Date = Date()) -> (healthy: Bool, lastUpdated: Date?, nodeEligible: Bool) {
        state.withLock { s in
            let seconds = timeout.seconds
            for (family, queued) in s.oldestPendingQueued.sorted(by: { $0.key.rawValue < $1.key.rawValue })
            where now.timeIntervalSince(queued) >= seconds {
                return (false, s.lastUpdated[family], s.nodeEligible)
            }
            return (true, s.lastUpdated.values.max(), s.nodeEligible)
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
