import IPTablesRules
import KubeProxyCore
import IPVSRules
import KubeProxyModel

/// Walks IPVS mode as the kernel does for the first packet of a connection: nat PREROUTING (OUTPUT
/// from this host) with its ipset matches, the filter chain of the hook where IPVS sits (INPUT;
/// OUTPUT from this host), then IPVS itself: one hash lookup of (protocol, address, port) among
/// the virtual servers, and the scheduler's choice among the real servers with weight above 0.
///
/// `rulesEvaluated` counts the iptables rules met plus one for the virtual-server lookup; it does
/// not grow with the number of Services.
public struct IPVSTracer: Sendable {
    public let rules: IPTablesTracer
    public let virtualServers: [VirtualServer.Key: VirtualServer]

    public init(dump: IPTablesDump, ipsets: [String: IPSetContents], virtualServers: [VirtualServer.Key: VirtualServer], localAddresses: Set<IPAddress>) {
        self.rules = IPTablesTracer(dump: dump, localAddresses: localAddresses, ipsets: ipsets)
        self.virtualServers = virtualServers
    }

    /// The tracer for what one IPVS-mode sync programs (`desired`, in `family`) after the iptables
    /// `payload` was restored into empty tables and the jumps were inserted.
    public init(desired: IPVSPlanner.Desired, payload: String, family: IPFamily, localAddresses: Set<IPAddress>) throws {
        var dump = IPTablesDump(tables: [
            .init(name: "filter", chains: ["INPUT", "FORWARD", "OUTPUT"].map { .init(name: $0) }),
            .init(name: "nat", chains: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"].map { .init(name: $0) }),
        ])
        try dump.applyRestore(payload)
        for jump in IPVSIPTablesRules.jumps {
            guard let t = dump.tables.firstIndex(where: { $0.name == jump.table }), let c = dump.tables[t].index(of: jump.from) else { continue }
            dump.tables[t].chains[c].rules.insert(try IPTablesRule(line: jump.restoreLine), at: 0)
        }
        let sets = Dictionary(uniqueKeysWithValues: desired.setEntries.map { ($0.key.name(for: family), IPSetContents(type: $0.key.kind.rawValue, entries: $0.value)) })
        self.init(dump: dump, ipsets: sets, virtualServers: desired.virtualServers, localAddresses: localAddresses)
    }

    public func trace(_ packet: Packet, fromThisHost: Bool? = nil) -> TraceResult {
        var walk = IPTablesTracer.Walk(tracer: rules, packet: packet)
        let local = fromThisHost ?? rules.localAddresses.contains(packet.source)
        var ended = walk.run(table: "nat", chain: local ? "OUTPUT" : "PREROUTING", depth: 0, weight: 1, counting: true)
        ended = walk.run(table: "filter", chain: local ? "OUTPUT" : "INPUT", depth: 0, weight: 1, counting: true) || ended
        if let verdict = walk.outputs.first(where: { ["DROP", "REJECT"].contains($0) }) {
            return result(walk, verdict: verdict)
        }
        // IPVS: one hash probe.
        walk.rulesEvaluated += 1
        let key = VirtualServer.Key(address: packet.destination, port: packet.destinationPort, protocol: packet.protocol)
        guard let vs = virtualServers[key] else {
            walk.steps.append(TraceStep(kind: .rule, table: "ipvs", chain: "virtual servers", depth: 0, rule: "lookup \(key)", matched: false,
                                        note: "no virtual server: not IPVS traffic"))
            return result(walk, verdict: walk.outputs.first ?? "NONE")
        }
        let usable = vs.realServers.filter { $0.weight > 0 }
        let how = Self.scheduling(vs)
        walk.steps.append(TraceStep(kind: .rule, table: "ipvs", chain: "virtual servers", depth: 0, rule: "lookup \(key)", matched: true,
                                    note: "virtual server \(key) \(vs.scheduler)\(vs.timeout > 0 ? " persistent \(vs.timeout)s" : ""): \(usable.count) real servers; \(how)"))
        guard !usable.isEmpty else {
            walk.steps.append(TraceStep(kind: .rule, table: "ipvs", chain: key.description, depth: 1, rule: "schedule", matched: false,
                                        note: "no real server with weight > 0: ICMP port unreachable (the connection is refused)"))
            return result(walk, verdict: "REJECT")
        }
        let total = Double(usable.map(\.weight).reduce(0, +))
        for rs in usable {
            let share = Double(rs.weight) / total
            walk.candidates.append(.init(endpoint: rs.endpoint, probability: share, chain: key.description))
            walk.outputs.append(rs.endpoint)
            walk.steps.append(TraceStep(kind: .rule, table: "ipvs", chain: key.description, depth: 1, rule: "-> \(rs.endpoint) Masq \(rs.weight)",
                                        matched: true, note: "DNAT to \(rs.endpoint) (\(IPTablesTracer.Walk.percent(share)) of new connections)"))
        }
        return result(walk, verdict: "DNAT")
    }

    /// How the scheduler picks among real servers, in words.
    static func scheduling(_ vs: VirtualServer) -> String {
        let base = switch vs.scheduler {
        case "rr": "round robin, in turn"
        case "wrr": "weighted round robin"
        case "lc", "wlc", "sed", "nq": "the one with the fewest connections (\(vs.scheduler))"
        case "sh": "by a hash of the source address"
        case "dh": "by a hash of the destination address"
        case "mh": "by Maglev hashing of the source address and port"
        case "lblc", "lblcr": "locality-based (\(vs.scheduler))"
        default: vs.scheduler
        }
        return vs.timeout > 0 ? base + "; a client keeps its real server for \(vs.timeout)s (persistence)" : base
    }

    func result(_ walk: IPTablesTracer.Walk, verdict: String) -> TraceResult {
        TraceResult(verdict: verdict, endpoints: walk.candidates.map(\.endpoint), candidates: walk.candidates, masquerade: walk.masquerade,
                    rulesEvaluated: walk.rulesEvaluated, steps: walk.steps, upstreamOutput: walk.outputs.joined(separator: ", "))
    }
}
