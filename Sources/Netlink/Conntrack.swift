/// ctnetlink (`include/uapi/linux/netfilter/nfnetlink_conntrack.h`): dumping the conntrack table
/// and deleting entries by their original tuple, on a `NETLINK_NETFILTER` socket.
public enum Conntrack {
    static let subsystem: UInt16 = 1                   // NFNL_SUBSYS_CTNETLINK
    static let getCommand: UInt16 = 1, deleteCommand: UInt16 = 2
    enum Attribute { static let tupleOrig: UInt16 = 1, tupleReply: UInt16 = 2 }
    enum TupleAttribute { static let ip: UInt16 = 1, proto: UInt16 = 2 }
    enum IPAttribute { static let v4Src: UInt16 = 1, v4Dst: UInt16 = 2, v6Src: UInt16 = 3, v6Dst: UInt16 = 4 }
    enum ProtoAttribute { static let number: UInt16 = 1, sourcePort: UInt16 = 2, destinationPort: UInt16 = 3 }

    /// One direction of a connection: addresses (4 or 16 bytes), protocol number, ports.
    public struct Tuple: Hashable, Sendable {
        public var source: [UInt8], destination: [UInt8]
        public var protocolNumber: UInt8
        public var sourcePort: UInt16, destinationPort: UInt16
        public init(source: [UInt8], destination: [UInt8], protocolNumber: UInt8, sourcePort: UInt16, destinationPort: UInt16) {
            self.source = source
            self.destination = destination
            self.protocolNumber = protocolNumber
            self.sourcePort = sourcePort
            self.destinationPort = destinationPort
        }
    }

    /// A conntrack entry: its original and reply tuples.
    public struct Entry: Hashable, Sendable {
        public var original: Tuple, reply: Tuple
        public init(original: Tuple, reply: Tuple) {
            self.original = original
            self.reply = reply
        }
    }

    /// `nfgenmsg`: address family, version 0, resource id 0.
    static func header(family: UInt8) -> [UInt8] { [family, 0, 0, 0] }

    /// Dump every entry of `family` (AF_INET 2, AF_INET6 10).
    public static func dumpRequest(family: UInt8, sequence: UInt32) -> NetlinkMessage {
        NetlinkMessage(type: subsystem << 8 | getCommand, flags: [.request, .dump], sequence: sequence, payload: header(family: family))
    }

    /// Delete the entry whose original tuple is `tuple`.
    public static func deleteRequest(_ tuple: Tuple, family: UInt8, sequence: UInt32) -> NetlinkMessage {
        var payload = header(family: family)
        NetlinkAttribute.nested(Attribute.tupleOrig, attributes(of: tuple, ipv6: family == 10), flagged: true).encode(into: &payload)
        return NetlinkMessage(type: subsystem << 8 | deleteCommand, flags: [.request, .ack], sequence: sequence, payload: payload)
    }

    static func attributes(of tuple: Tuple, ipv6: Bool) -> [NetlinkAttribute] {
        let (src, dst) = ipv6 ? (IPAttribute.v6Src, IPAttribute.v6Dst) : (IPAttribute.v4Src, IPAttribute.v4Dst)
        return [
            .nested(TupleAttribute.ip, [.bytes(src, tuple.source), .bytes(dst, tuple.destination)], flagged: true),
            .nested(TupleAttribute.proto, [.u8(ProtoAttribute.number, tuple.protocolNumber), .be16(ProtoAttribute.sourcePort, tuple.sourcePort),
                                           .be16(ProtoAttribute.destinationPort, tuple.destinationPort)], flagged: true),
        ]
    }

    /// The entry a dump reply describes; nil for other messages or tuples without ports.
    public static func entry(in message: NetlinkMessage) throws -> Entry? {
        guard message.type == subsystem << 8 | 0, message.payload.count >= 4 else { return nil }   // IPCTNL_MSG_CT_NEW
        let attributes = try NetlinkAttribute.parse(message.payload[4...])
        guard let original = try attributes.first(Attribute.tupleOrig).flatMap(tuple), let reply = try attributes.first(Attribute.tupleReply).flatMap(tuple) else { return nil }
        return Entry(original: original, reply: reply)
    }

    static func tuple(_ attribute: NetlinkAttribute) throws -> Tuple? {
        let parts = try attribute.children()
        guard let ip = try parts.first(TupleAttribute.ip)?.children(), let proto = try parts.first(TupleAttribute.proto)?.children() else { return nil }
        guard let source = (ip.first(IPAttribute.v4Src) ?? ip.first(IPAttribute.v6Src))?.payload,
              let destination = (ip.first(IPAttribute.v4Dst) ?? ip.first(IPAttribute.v6Dst))?.payload,
              let number = proto.first(ProtoAttribute.number)?.u8,
              let sourcePort = proto.first(ProtoAttribute.sourcePort)?.be16, let destinationPort = proto.first(ProtoAttribute.destinationPort)?.be16 else { return nil }
        return Tuple(source: source, destination: destination, protocolNumber: number, sourcePort: sourcePort, destinationPort: destinationPort)
    }
}
