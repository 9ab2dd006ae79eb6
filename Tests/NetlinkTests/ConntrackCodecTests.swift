import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Netlink
import Testing

/// ctnetlink messages as the kernel and libnetfilter_conntrack lay them out, and the filter that
/// picks stale entries.
@Suite("ctnetlink codec and stale-entry filter")
struct ConntrackCodecTests {
    static let original = Conntrack.Tuple(source: [198, 18, 1, 14], destination: [198, 18, 10, 12], protocolNumber: 17, sourcePort: 40100, destinationPort: 53)
    static let reply = Conntrack.Tuple(source: [198, 18, 1, 2], destination: [198, 18, 1, 14], protocolNumber: 17, sourcePort: 5353, destinationPort: 40100)

    @Test("a dump request and a delete request, byte for byte")
    func requests() {
        let dump = Conntrack.dumpRequest(family: 2, sequence: 7)
        #expect(dump.type == 0x0101 && dump.flags.rawValue == 0x301 && dump.payload == [2, 0, 0, 0])
        let delete = Conntrack.deleteRequest(Self.original, family: 2, sequence: 8)
        #expect(delete.type == 0x0102 && delete.flags.rawValue == 0x5)
        #expect(delete.payload == [2, 0, 0, 0,
                                   52, 0, 0x01, 0x80,                                  // CTA_TUPLE_ORIG, nested
                                   20, 0, 0x01, 0x80, 8, 0, 1, 0, 198, 18, 1, 14, 8, 0, 2, 0, 198, 18, 10, 12,   // CTA_TUPLE_IP
                                   28, 0, 0x02, 0x80, 5, 0, 1, 0, 17, 0, 0, 0,        // CTA_TUPLE_PROTO: CTA_PROTO_NUM
                                   6, 0, 2, 0, 0x9C, 0xA4, 0, 0, 6, 0, 3, 0, 0, 53, 0, 0])   // ports, big-endian
    }

    @Test("a dump reply parses to its tuples; the filter picks by original destination and reply source")
    func parseAndMatch() throws {
        var payload: [UInt8] = [2, 0, 0, 0]
        for (type, tuple) in [(UInt16(1), Self.original), (2, Self.reply)] {
            NetlinkAttribute.nested(type, [
                .nested(1, [.bytes(1, tuple.source), .bytes(2, tuple.destination)], flagged: true),
                .nested(2, [.u8(1, tuple.protocolNumber), .be16(2, tuple.sourcePort), .be16(3, tuple.destinationPort)], flagged: true),
            ], flagged: true).encode(into: &payload)
        }
        NetlinkAttribute.u32(3, 0x0E).encode(into: &payload)   // CTA_STATUS, ignored
        let entry = try #require(try Conntrack.entry(in: NetlinkMessage(type: 0x0100, flags: .multi, sequence: 7, payload: payload)))
        #expect(entry == Conntrack.Entry(original: Self.original, reply: Self.reply))
        let ip = { (s: String) in IPAddress(sloppy: s)! }
        #expect(ConntrackDeletion(origDst: ip("198.18.10.12"), origPortDst: 53, replySrc: ip("198.18.1.2"), replyPortSrc: 5353).matches(entry))
        #expect(ConntrackDeletion(origDst: ip("198.18.10.12"), origPortDst: 53).matches(entry))
        #expect(ConntrackDeletion(origDst: nil, origPortDst: 53).matches(entry), "a NodePort filter: any address")
        #expect(!ConntrackDeletion(origDst: ip("198.18.10.12"), origPortDst: 53, replySrc: ip("198.18.1.6"), replyPortSrc: 5353).matches(entry))
        #expect(!ConntrackDeletion(origDst: ip("198.18.10.13"), origPortDst: 53).matches(entry))
        #expect(!ConntrackDeletion(origDst: ip("198.18.10.12"), origPortDst: 54).matches(entry))
    }
}
