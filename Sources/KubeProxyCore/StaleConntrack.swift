import KubeProxyModel

/// A UDP conntrack entry filter to delete after a sync: entries whose original destination is
/// (`origDst`:)`origPortDst` and, when given, whose reply comes from `replySrc:replyPortSrc`.
public struct ConntrackDeletion: Hashable, Sendable, CustomStringConvertible {
    public var origDst: IPAddress?
    public var origPortDst: Int
    public var replySrc: IPAddress?
    public var replyPortSrc: Int?

    public init(origDst: IPAddress?, origPortDst: Int, replySrc: IPAddress? = nil, replyPortSrc: Int? = nil) {
        self.origDst = origDst
        self.origPortDst = origPortDst
        self.replySrc = replySrc
        self.replyPortSrc = replyPortSrc
    }

    public var description: String {
        "udp \(origDst.map { "\($0)" } ?? "*"):\(origPortDst)" + (replySrc.map { " via \($0):\(replyPortSrc ?? 0)" } ?? "")
    }
}

/// Which UDP conntrack entries would keep sending traffic to a removed endpoint, or to nowhere,
/// after a change from `previous` to `current` (upstream's stale-UDP cleanup).
public enum StaleConntrack {
    /// - Parameter services: when given, only these Services (`namespace/name`) can have changed:
    ///   the others are not looked at (a change tracker's set: no walk of the whole cluster).
    public static func deletions(previous: ProxyState?, current: ProxyState, services: Set<String>? = nil) -> [ConntrackDeletion] {
        var result: [ConntrackDeletion] = []
        func frontends(_ svc: ServicePortInfo) -> [(IPAddress?, Int)] {
            var list: [(IPAddress?, Int)] = [(svc.clusterIP, svc.port)]
            list += (svc.externalIPs + svc.loadBalancerVIPs).map { ($0, svc.port) }
            if svc.nodePort != 0 { list.append((nil, svc.nodePort)) }
            return list
        }
        func serving(_ state: ProxyState?, _ name: ServicePortName) -> [Endpoint] {
            (state?.endpoints[name] ?? []).filter { $0.ready || $0.serving }
        }
        func goneTo(_ svc: ServicePortInfo, _ gone: [Endpoint]) -> [ConntrackDeletion] {
            gone.flatMap { ep in frontends(svc).map { ConntrackDeletion(origDst: $0.0, origPortDst: $0.1, replySrc: ep.ip, replyPortSrc: ep.port) } }
        }
        func names(_ state: ProxyState) -> [ServicePortName] {
            guard let services else { return state.sortedServicePortNames }
            return state.services.keys.filter { $0.protocol == .udp && services.contains($0.namespacedName) }.sorted()
        }
        for name in names(current) where name.protocol == .udp {
            let svc = current.services[name]!
            let now = serving(current, name)
            let before = previous?.services[name] == nil ? [] : serving(previous, name)
            if !now.isEmpty && before.isEmpty {
                // Entries made while nothing answered would never be DNATed.
                result += frontends(svc).map { ConntrackDeletion(origDst: $0.0, origPortDst: $0.1) }
                continue
            }
            // Flows to endpoints that went, also when none is left (scaled to zero): upstream
            // kept those flowing to the removed endpoint.
            let kept = Set(now.map(\.description))
            result += goneTo(svc, before.filter { !kept.contains($0.description) })
        }
        // A deleted UDP Service: its flows must not keep reaching its old endpoints either.
        for name in previous.map(names) ?? [] where name.protocol == .udp && current.services[name] == nil {
            result += goneTo(previous!.services[name]!, serving(previous, name))
        }
        return result
    }
}
