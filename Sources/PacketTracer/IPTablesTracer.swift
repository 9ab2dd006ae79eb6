import IPTablesRules
import KubeProxyCore
import KubeProxyModel

/// Walks iptables tables the way the kernel would for the first packet of a connection, following
/// upstream kube-proxy's test tracer (`tracePacket`): nat PREROUTING (OUTPUT for a packet from
/// this host), then the filter chains KUBE-SERVICES, KUBE-EXTERNAL-SERVICES, KUBE-NODEPORTS and
/// KUBE-PROXY-FIREWALL. A probabilistic jump is followed to every endpoint it may choose.
///
/// Rules that need connection history (`--rcheck` affinity, `--mark`, `--ctstate`) do not match a
/// first packet.
public struct IPTablesTracer: Sendable {
    public let dump: IPTablesDump
    /// Addresses that `--src-type LOCAL` and `--dst-type LOCAL` match.
    public let localAddresses: Set<IPAddress>
    /// The ipsets that `-m set --match-set` rules look up (IPVS mode), by name.
    public let ipsets: [String: IPSetContents]

    public init(dump: IPTablesDump, localAddresses: Set<IPAddress>, ipsets: [String: IPSetContents] = [:]) {
        self.dump = dump
        self.localAddresses = localAddresses
        self.ipsets = ipsets
    }

    /// Traces `packet`. With `fromThisHost` nil, a packet whose source is a local address starts in nat OUTPUT.
    public func trace(_ packet: Packet, fromThisHost: Bool? = nil) -> TraceResult {
        var walk = Walk(tracer: self, packet: packet)
        let local = fromThisHost ?? localAddresses.contains(packet.source)
        let entry = local ? "OUTPUT" : "PREROUTING"
        _ = walk.run(table: "nat", chain: entry, depth: 0, weight: 1, counting: true)
        if let first = walk.outputs.first, let ip = Self.host(of: first) {
            walk.packet.destination = ip
        }
        for chain in ["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS", "KUBE-PROXY-FIREWALL"] {
            _ = walk.run(table: "filter", chain: chain, depth: 0, weight: 1, counting: true)
        }
        let verdicts = walk.outputs.filter { ["ACCEPT", "DROP", "REJECT"].contains($0) }
        let verdict = verdicts.first ?? (walk.candidates.isEmpty ? "NONE" : "DNAT")
        return TraceResult(
            verdict: verdict, endpoints: walk.candidates.map(\.endpoint), candidates: walk.candidates,
            masquerade: walk.masquerade, rulesEvaluated: walk.rulesEvaluated, steps: walk.steps,
            upstreamOutput: walk.outputs.joined(separator: ", "))
    }

    /// The address part of `ip:port` or `[ip]:port`.
    static func host(of endpoint: String) -> IPAddress? {
        if endpoint.hasPrefix("["), let close = endpoint.firstIndex(of: "]") {
            return IPAddress(sloppy: endpoint[endpoint.index(after: endpoint.startIndex)..<close])
        }
        return IPAddress(sloppy: endpoint.split(separator: ":").first ?? "")
    }
}
