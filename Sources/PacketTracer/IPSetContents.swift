import KubeProxyModel

/// An ipset as the tracer looks it up: its type and entries in `ipset add` syntax.
public struct IPSetContents: Hashable, Sendable {
    /// `hash:ip`, `hash:ip,port`, `hash:ip,port,ip`, `hash:ip,port,net` or `bitmap:port`.
    public var type: String
    public var entries: Set<String>

    public init(type: String, entries: Set<String>) {
        self.type = type
        self.entries = entries
    }

    /// Whether the packet matches, with `directions` as in `--match-set NAME dst,dst,src`: each
    /// `src`/`dst` picks the packet's address (or port, for a port component) on that side.
    public func contains(_ packet: Packet, directions: String) -> Bool {
        let sides = directions.split(separator: ",").map { $0 == "src" }
        let components = type.split(separator: ":").last?.split(separator: ",").map(String.init) ?? []
        guard sides.count == components.count else { return false }
        func address(_ source: Bool) -> IPAddress { source ? packet.source : packet.destination }
        // Only destination ports exist in the tracer's packet; a `src` port matches nothing.
        func port(_ source: Bool) -> String? { source ? nil : "\(packet.protocol.lowercased):\(packet.destinationPort)" }
        switch components {
        case ["port"]:
            return sides[0] ? false : entries.contains("\(packet.destinationPort)")
        case ["ip"]:
            return entries.contains(address(sides[0]).description)
        case ["ip", "port"]:
            guard let p = port(sides[1]) else { return false }
            return entries.contains("\(address(sides[0])),\(p)")
        case ["ip", "port", "ip"]:
            guard let p = port(sides[1]) else { return false }
            return entries.contains("\(address(sides[0])),\(p),\(address(sides[2]))")
        case ["ip", "port", "net"]:
            guard let p = port(sides[1]) else { return false }
            let prefix = "\(address(sides[0])),\(p),"
            return entries.contains { $0.hasPrefix(prefix) && (CIDR(sloppy: String($0.dropFirst(prefix.count)))?.contains(address(sides[2])) ?? false) }
        default:
            return false
        }
    }
}
