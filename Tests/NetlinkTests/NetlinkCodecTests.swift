import Netlink
import Testing

/// The IPVS generic netlink messages, byte for byte (worked examples in
/// shared/reference/ipvs-and-nftables-modes.md, B.4, little-endian host), and the parser.
@Suite("Netlink codec")
struct NetlinkCodecTests {
    static func hex(_ text: String) -> [UInt8] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { UInt8($0, radix: 16)! }
    }

    static let tcpService = IPVSService(address: [198, 18, 0, 10], protocolNumber: 6, port: 80, scheduler: "rr")

    @Test("NEW_SERVICE TCP 198.18.0.10:80 rr: 92 bytes, attributes in moby's order, port big-endian")
    func newService() {
        let message = IPVS.request(.newService, family: 0x24, sequence: 1, service: Self.tcpService)
        #expect(message.encoded() == Self.hex("""
            5c 00 00 00 24 00 05 00 01 00 00 00 00 00 00 00
            01 01 00 00 48 00 01 00 06 00 01 00 02 00 00 00
            06 00 02 00 06 00 00 00 08 00 03 00 c6 12 00 0a
            06 00 04 00 00 50 00 00 07 00 06 00 72 72 00 00
            0c 00 07 00 00 00 00 00 ff ff ff ff 08 00 08 00
            00 00 00 00 08 00 09 00 ff ff ff ff
            """))
    }

    @Test("ClientIP affinity changes only FLAGS (persistent) and TIMEOUT (10800)")
    func affinity() {
        var sticky = Self.tcpService
        sticky.flags = .persistent
        sticky.timeout = 10800
        let plain = IPVS.request(.newService, family: 0x24, sequence: 1, service: Self.tcpService).encoded()
        let bytes = IPVS.request(.newService, family: 0x24, sequence: 1, service: sticky).encoded()
        let differing = zip(plain, bytes).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(differing == [0x44, 0x50, 0x51])
        #expect(Array(bytes[0x44..<0x4c]) == [1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])
        #expect(Array(bytes[0x50..<0x54]) == [0x30, 0x2a, 0, 0])
    }

    @Test("NEW_DEST 10.244.1.5:8080 weight 1: the service nest, then the 52-byte dest nest")
    func newDest() {
        let message = IPVS.request(.newDest, family: 0x24, sequence: 1, service: Self.tcpService,
                                   destination: IPVSDestination(address: [10, 244, 1, 5], port: 8080, weight: 1))
        let bytes = message.encoded()
        #expect(bytes.count == 144)
        #expect(Array(bytes[0x5c...]) == Self.hex("""
            34 00 02 00 08 00 01 00 0a f4 01 05 06 00 02 00 1f 90 00 00
            08 00 03 00 00 00 00 00 08 00 04 00 01 00 00 00
            08 00 05 00 00 00 00 00 08 00 06 00 00 00 00 00
            """))
    }

    @Test("the family lookup to nlctrl: 32 bytes")
    func familyLookup() {
        #expect(GenericNetlinkController.getFamily("IPVS", sequence: 0).encoded() == Self.hex(
            "20 00 00 00 10 00 05 00 00 00 00 00 00 00 00 00 03 01 00 00 09 00 02 00 49 50 56 53 00 00 00 00"))
    }

    @Test("parsing: messages back from bytes, nests, errors, truncation refused")
    func parsing() throws {
        let message = IPVS.request(.newDest, family: 0x24, sequence: 7, service: Self.tcpService,
                                   destination: IPVSDestination(address: [10, 244, 1, 5], port: 8080, weight: 3))
        let error = NetlinkMessage(type: NetlinkMessage.errorType, flags: [], sequence: 7, payload: NetlinkBytes.host(UInt32(bitPattern: -17)) + message.encoded().prefix(16))
        let parsed = try NetlinkMessage.parse(message.encoded() + error.encoded())
        #expect(parsed.count == 2)
        #expect(parsed[0] == message)
        #expect(parsed[1].errorNumber == 17)
        let (command, attributes) = try parsed[0].generic()
        #expect(command == IPVS.Command.newDest.rawValue)
        let service = try IPVSService(attributes: attributes.first(1)!.children())
        #expect(service == Self.tcpService)
        let dest = try IPVSDestination(attributes: attributes.first(2)!.children(), ipv6: false)
        #expect(dest.address == [10, 244, 1, 5] && dest.port == 8080 && dest.weight == 3)
        #expect(throws: NetlinkError.self) { try NetlinkMessage.parse(Array(message.encoded().dropLast(8))) }
        #expect(throws: NetlinkError.self) { try NetlinkAttribute.parse([9, 0, 1, 0, 1][...]) }
    }

    @Test("IPv6 services: 16-byte address, AF_INET6, netmask = prefix length 128")
    func ipv6() throws {
        let v6 = IPVSService(address: [0x20, 0x01, 0, 2] + [UInt8](repeating: 0, count: 11) + [1], protocolNumber: 17, port: 53)
        let attributes = v6.attributes
        #expect(attributes.first(1)?.u16 == 10)
        #expect(attributes.first(3)?.payload.count == 16)
        #expect(attributes.first(9)?.u32 == 128)
        #expect(try IPVSService(attributes: try NetlinkAttribute.parse(NetlinkAttribute.nested(1, attributes).payload[...])) == v6)
    }

    @Test("nf_tables: concatenated keys padded to 4-byte registers; a batch framed by BEGIN/END for subsystem 10; NEWSETELEM with CREATE")
    func nftablesElements() throws {
        // 198.18.10.10 . tcp . 80: 4 address bytes, the protocol in a register of its own, the port big-endian.
        #expect(NFTablesNetlink.key([[198, 18, 10, 10], [6], [0, 80]]) == [198, 18, 10, 10, 6, 0, 0, 0, 0, 80, 0, 0])
        let add = NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "cluster-ips", [.init(key: [198, 18, 10, 10], comment: "x")], sequence: 7)
        #expect(add.type == 0x0A0C && add.flags.rawValue == 0x405 && add.sequence == 7)
        #expect(Array(add.payload.prefix(4)) == [2, 0, 0, 0], "nfgenmsg: NFPROTO_IPV4, version 0")
        let attributes = try NetlinkAttribute.parse(add.payload[4...])
        #expect(attributes.first(1)?.string == "kube-proxy" && attributes.first(2)?.string == "cluster-ips")
        let element = try #require(try attributes.first(3)?.children().first)
        let parts = try element.children()
        #expect(try parts.first(1)?.children().first(1)?.payload == [198, 18, 10, 10])
        #expect(parts.first(6)?.payload == [0, 2, UInt8(ascii: "x"), 0], "comment as libnftnl user data")
        let delete = NFTablesNetlink.elements(add: false, family: .ip6, table: "t", set: "s", [], sequence: 1)
        #expect(delete.type == 0x0A0E && delete.flags.rawValue == 0x5 && delete.payload[0] == 10)
        let batch = NFTablesNetlink.batch([add], begin: 6, end: 8)
        #expect(batch.map(\.type) == [0x10, 0x0A0C, 0x11] && batch.map(\.sequence) == [6, 7, 8])
        #expect(batch[0].payload == [0, 0, 0, 10] && !batch[0].flags.contains(.ack), "res_id NFNL_SUBSYS_NFTABLES, big-endian; no ack for the markers")
    }
}
