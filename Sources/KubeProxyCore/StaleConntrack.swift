import KubeProxyModel

/// A UDP conntrack entry filter to delete after a sync: entries whose original destination is
/// (`origDst`:)`origPortDst` and, when given, whose reply comes from `replySrc:replyPortSrc`.
public struct ConntrackDeletion: Hashable, Sendable, CustomStringConvertible {
    public var origDst: IPAddress?
    public var origPortDst: Int
    public var replySrc: IPAddress?
    public var replyPortSrc: Int?

    public var description: String {
        "udp \(origDst.map { "\($0)" } ?? "*"):\(origPortDst)" + (replySrc.map { " via \($0):\(replyPortSrc ?? 0)" } ?? "")
    }
}

/// Which UDP conntrack entries would keep sending traffic to a removed endpoint, or to nowhere,
/// after a change from `previous` to `current` (upstream's stale-UDP cleanup).
public enum StaleConntrack {
    public static func deletions(previous: ProxyState?, current: ProxyState) -> [ConntrackDeletion] {
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
        for name in current.sortedServicePortNames where name.protocol == .udp {
            let svc = current.services[name]!
            let now = serving(current, name)
            let before = serving(previous, name)
            if now.isEmpty { continue }
            if before.isEmpty || previous?.services[name] == nil {
                // Entries made while nothing answered would never be DNATed.
                result += frontends(svc).map { ConntrackDeletion(origDst: $0.0, origPortDst: $0.1) }
                continue
            }
            let kept = Set(now.map(\.description))
            for gone in before where !kept.contains(gone.description) {
                result += frontends(svc).map {
                    ConntrackDeletion(origDst: $0.0, origPortDst: $0.1, replySrc: gone.ip, replyPortSrc: gone.port)
                }
            }
        }
        return result
    }
}
