import KubeProxyModel
import NFTablesRules

/// Walks kube-proxy's nftables table the way the kernel would for the first packet of a
/// connection: the base chains of each hook in priority order (prerouting, then input or forward
/// after the routing decision, then postrouting; output for a packet from this host), verdict-map
/// lookups, `numgen` choices (every branch, with its probability), jumps and gotos.
///
/// It understands the rule shapes kube-proxy writes. `rulesEvaluated` counts each rule once and
/// each set or map lookup once more.
public struct NFTablesTracer: Sendable {
    public let table: NFTablesState
    public let localAddresses: Set<IPAddress>

    public init(table: NFTablesState, localAddresses: Set<IPAddress>) {
        self.table = table
        self.localAddresses = localAddresses
    }

    public func trace(_ packet: Packet, fromThisHost: Bool? = nil) -> TraceResult {
        var walk = Walk(tracer: self, packet: packet)
        let local = fromThisHost ?? localAddresses.contains(packet.source)
        let firstHook = local ? "output" : "prerouting"
        // Before DNAT: the filter chains at -110, then nat.
        walk.runHook(firstHook, type: "filter", below: -100)
        if walk.verdict == nil { walk.runHook(firstHook, type: "nat", below: 1) }
        if walk.verdict == nil {
            if let dnat = walk.candidates.first, let ip = IPTablesTracer.host(of: dnat.endpoint) {
                walk.packet.destination = ip
                if let port = dnat.endpoint.split(separator: ":").last.flatMap({ Int($0) }) { walk.packet.destinationPort = port }
            }
            let delivered = localAddresses.contains(walk.packet.destination)
            let hook = local ? "output" : (delivered ? "input" : "forward")
            walk.runHook(hook, type: "filter", below: 1000, from: local ? -99 : Int.min)
        }
        if walk.verdict == nil { walk.runHook("postrouting", type: "nat", below: 1000) }
        let verdict = walk.verdict ?? (walk.candidates.isEmpty ? "NONE" : "DNAT")
        return TraceResult(verdict: verdict, endpoints: walk.candidates.map(\.endpoint), candidates: walk.candidates,
                           masquerade: walk.masquerade, rulesEvaluated: walk.rulesEvaluated, steps: walk.steps,
                           upstreamOutput: (walk.candidates.map(\.endpoint) + [walk.verdict].compactMap { $0 }).joined(separator: ", "))
    }
}
