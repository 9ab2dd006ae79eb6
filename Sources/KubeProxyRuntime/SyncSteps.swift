import KubeProxyModel
/// How long each step of one sync took, in order (`plan=0.12s ipsets=0.03s ...` in the log).
public struct SyncSteps: Sendable, CustomStringConvertible {
    public private(set) var steps: [(name: String, duration: Duration)] = []
    private var last: ContinuousClock.Instant

    public init(start: ContinuousClock.Instant = .now) { last = start }

    /// Ends step `name` now.
    public mutating func lap(_ name: String) {
        let now = ContinuousClock.now
        steps.append((name, now - last))
        last = now
    }

    public var description: String {
        steps.map { step in
            "\(step.name)=\((step.duration.seconds * 1000).rounded() / 1000)s"
        }.joined(separator: " ")
    }
}
