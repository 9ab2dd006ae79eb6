import Netlink
import NFTablesRules
import NFTablesWire
import Testing

/// The compiler's nft text as nf_tables messages: each rule form kube-proxy's Service chains use,
/// against the expressions nft 1.0.6 sends for it (read with `nft --debug=netlink`), and what
/// the writer leaves to `nft`. The kernel test (NFTablesWireKernelTests) checks the same against
/// the kernel's own dump.
@Suite("nf_tables netlink encoder")
struct NFTNetlinkEncoderTests {
    let encoder = NFTNetlinkEncoder()

    /// The messages for `operations` on table ip (or ip6) kube-proxy, with the ack flags taken off.
    func encode(_ family: String = "ip", _ build: (inout NFTTransaction) -> Void) throws -> [NetlinkMessage] {
        var tx = NFTTransaction(family: family, table: "kube-proxy")
        build(&tx)
        let encoded = try encoder.encode(tx, firstSequence: 100)
        #expect(encoded.messages.enumerated().allSatisfy { $0.element.flags.contains(.ack) == ($0.offset == encoded.messages.count - 1) },
                "only the last message asks for an ack")
        return encoded.messages.map { var m = $0; m.flags.remove(.ack); return m }
    }

    func rule(family: NFTablesNetlink.Family = .ip, chain: String = "svc", _ expressions: [NFTablesExpression], comment: String? = nil,
              sequence: UInt32 = 100) -> NetlinkMessage {
        NFTablesNetlink.rule(family: family, table: "kube-proxy", chain: chain, expressions, comment: comment, sequence: sequence, ack: false)
    }

    @Test("addresses and prefixes: whole bytes are loaded and compared, other prefixes masked first")
    func addresses() throws {
        let messages = try encode { tx in
            tx.add(.rule(chain: "svc", text: "ip daddr 198.19.0.10 ip saddr != 198.18.0.0/16 jump mark-for-masquerade"))
            tx.add(.rule(chain: "svc", text: "ip saddr != 198.16.0.0/12 jump mark-for-masquerade"))
        }
        #expect(messages == [
            rule([.payload(base: .network, offset: 16, length: 4, register: 1), .compare(register: 1, op: .equal, value: [198, 19, 0, 10]),
                  .payload(base: .network, offset: 12, length: 2, register: 1), .compare(register: 1, op: .notEqual, value: [198, 18]),
                  .verdict(.jump("mark-for-masquerade"))]),
            rule([.payload(base: .network, offset: 12, length: 4, register: 1),
                  .bitwise(register: 1, mask: [255, 240, 0, 0], xor: [0, 0, 0, 0]),
                  .compare(register: 1, op: .notEqual, value: [198, 16, 0, 0]), .verdict(.jump("mark-for-masquerade"))], sequence: 101),
        ])
    }

    @Test("numgen vmap: an anonymous map, its elements and the rule, bound by one set id")
    func verdictMap() throws {
        let messages = try encode { tx in
            tx.add(.rule(chain: "svc", text: "numgen random mod 2 vmap { 0 : goto ep-a , 1 : goto ep-b }"))
        }
        #expect(messages == [
            NFTablesNetlink.anonymousVerdictMap(family: .ip, table: "kube-proxy", id: 1, size: 2, sequence: 100, ack: false),
            NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "__map%d", setID: 1, [
                .init(key: [0, 0, 0, 0], data: .goto("ep-a")), .init(key: [1, 0, 0, 0], data: .goto("ep-b")),
            ], sequence: 101, ack: false),
            rule([.numgenRandom(modulus: 2, register: 1), .lookup(set: "__map%d", setID: 1, register: 1, verdictMap: true)], sequence: 102),
        ])
    }

    @Test("endpoint chain: affinity set created in the batch, masquerade, update, dnat (IPv6)")
    func endpointChainIPv6() throws {
        let messages = try encode("ip6") { tx in
            tx.add(.set(name: "affinity-x", type: "ipv6_addr", flags: ["dynamic", "timeout"], timeoutSeconds: 10800, comment: nil))
            tx.add(.rule(chain: "ep", text: "ip6 saddr 2001:2::5 jump mark-for-masquerade"))
            tx.add(.rule(chain: "ep", text: "update @affinity-x { ip6 saddr }"))
            tx.add(.rule(chain: "ep", text: "meta l4proto udp dnat to [2001:2::5]:53"))
        }
        let address: [UInt8] = [0x20, 0x01, 0, 2] + [UInt8](repeating: 0, count: 11) + [5]
        #expect(messages == [
            NFTablesNetlink.timeoutSet(family: .ip6, table: "kube-proxy", name: "affinity-x", timeoutMilliseconds: 10_800_000, id: 1, sequence: 100, ack: false),
            rule(family: .ip6, chain: "ep", [.payload(base: .network, offset: 8, length: 16, register: 1), .compare(register: 1, op: .equal, value: address),
                                     .verdict(.jump("mark-for-masquerade"))], sequence: 101),
            rule(family: .ip6, chain: "ep", [.payload(base: .network, offset: 8, length: 16, register: 1), .dynsetUpdate(set: "affinity-x", setID: 1, register: 1)],
                 sequence: 102),
            rule(family: .ip6, chain: "ep", [.meta(key: .l4proto, register: 1), .compare(register: 1, op: .equal, value: [17]),
                                     .immediate(register: 1, value: address), .immediate(register: 2, value: [0, 53]),
                                     .nat(destination: true, family: 10, addressRegister: 1, portRegister: 2)], sequence: 103),
        ])
    }

    @Test("external chain: interface prefixes, fib, comments")
    func externalChain() throws {
        let messages = try encode { tx in
            tx.add(.rule(chain: "ext", text: "iifname != \"veth*\" goto svc comment \"short-circuit pod traffic\""))
            tx.add(.rule(chain: "ext", text: "fib saddr type local jump mark-for-masquerade comment \"masquerade local traffic\""))
            tx.add(.rule(chain: "ext", text: "iifname \"cbr0\" goto svc"))
        }
        #expect(messages == [
            rule(chain: "ext", [.meta(key: .inputInterfaceName, register: 1), .compare(register: 1, op: .notEqual, value: Array("veth".utf8)),
                                .verdict(.goto("svc"))], comment: "short-circuit pod traffic"),
            rule(chain: "ext", [.fibAddressType(source: true, register: 1), .compare(register: 1, op: .equal, value: [2, 0, 0, 0]),
                                .verdict(.jump("mark-for-masquerade"))], comment: "masquerade local traffic", sequence: 101),
            rule(chain: "ext", [.meta(key: .inputInterfaceName, register: 1),
                                .compare(register: 1, op: .equal, value: Array("cbr0".utf8) + [UInt8](repeating: 0, count: 12)),
                                .verdict(.goto("svc"))], sequence: 102),
        ])
    }

    @Test("firewall chain: an anonymous interval set, an end at zero, each range's start and the address after it")
    func sourceRanges() throws {
        let messages = try encode { tx in
            tx.add(.rule(chain: "fw", text: "ip saddr != { 198.19.1.1, 198.18.5.0/24 } drop"))
        }
        #expect(messages == [
            NFTablesNetlink.anonymousSourceIntervals(family: .ip, table: "kube-proxy", id: 1, size: 5, sequence: 100, ack: false),
            NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "__set%d", setID: 1, [
                .init(key: [0, 0, 0, 0], intervalEnd: true), .init(key: [198, 18, 5, 0]), .init(key: [198, 18, 6, 0], intervalEnd: true),
                .init(key: [198, 19, 1, 1]), .init(key: [198, 19, 1, 2], intervalEnd: true),
            ], sequence: 101, ack: false),
            rule(chain: "fw", [.payload(base: .network, offset: 12, length: 4, register: 1),
                               .lookup(set: "__set%d", setID: 1, register: 1, verdictMap: false, inverted: true), .verdict(.drop)], sequence: 102),
        ])
    }

    @Test("elements: concatenated keys padded to registers, verdicts, comments; deletions by key")
    func elements() throws {
        let messages = try encode { tx in
            tx.add(.element(container: "service-ips", key: "198.19.0.10 . tcp . 80", value: "goto svc", comment: nil))
            tx.add(.element(container: "no-endpoint-nodeports", key: "udp . 30053", value: "goto reject-chain", comment: "demo/dns:dns"))
            tx.delete(.element(container: "cluster-ips", key: "198.19.0.11", value: nil, comment: nil))
        }
        #expect(messages == [
            NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "service-ips",
                                     [.init(key: [198, 19, 0, 10, 6, 0, 0, 0, 0, 80, 0, 0], data: .goto("svc"))], sequence: 100, ack: false),
            NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "no-endpoint-nodeports",
                                     [.init(key: [17, 0, 0, 0, 0x75, 0x65, 0, 0], data: .goto("reject-chain"), comment: "demo/dns:dns")], sequence: 101, ack: false),
            NFTablesNetlink.elements(add: false, family: .ip, table: "kube-proxy", set: "cluster-ips", [.init(key: [198, 19, 0, 11])], sequence: 102, ack: false),
        ])
    }

    @Test("endpoint maps: created with their typeof, flushed, slot ranges as start and end elements, the dnat rule looking them up")
    func endpointMaps() throws {
        let type = NFTablesCompiler.endpointMapType(family: "ip", protocol: "tcp")
        var tx = NFTTransaction(family: "ip", table: "kube-proxy")
        tx.add(.map(name: "cluster-endpoints-x", type: type, comment: nil))
        tx.flush(.map(name: "cluster-endpoints-x", type: type, comment: nil))
        tx.add(.element(container: "cluster-endpoints-x", key: "32768-65535", value: "198.18.1.6 . 8080", comment: nil))
        tx.add(.rule(chain: "svc", text: "meta l4proto tcp dnat ip to numgen random mod 65536 map @cluster-endpoints-x"))
        let messages = try encoder.encode(tx, firstSequence: 100).messages.map { var m = $0; m.flags.remove(.ack); return m }
        #expect(messages.count == 4)
        #expect(messages[0] == NFTablesNetlink.endpointMap(family: .ip, table: "kube-proxy", name: "cluster-endpoints-x", id: 1, modulus: 65536,
                                                           transport: 8, sequence: 100, ack: false))
        #expect(messages[1] == NFTablesNetlink.flushSet(family: .ip, table: "kube-proxy", name: "cluster-endpoints-x", sequence: 101, ack: false))
        // Keys in network order: 32768 starts the range with its data, 65536 ends it.
        #expect(messages[2] == NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "cluster-endpoints-x", setID: 1, [
            .init(key: [0, 0, 0x80, 0], data: .bytes([198, 18, 1, 6, 0x1F, 0x90, 0, 0])),
            .init(key: [0, 1, 0, 0], intervalEnd: true),
        ], sequence: 102, ack: false))
        #expect(messages[3] == NFTablesNetlink.rule(family: .ip, table: "kube-proxy", chain: "svc", [
            .meta(key: .l4proto, register: 1), .compare(register: 1, op: .equal, value: [6]),
            .numgenRandom(modulus: 65536, register: 1), .hostToNetwork(register: 1, size: 4),
            .mapLookup(set: "cluster-endpoints-x", setID: 1, register: 1, destination: 1),
            .nat(destination: true, family: 2, addressRegister: 1, portRegister: 9),
        ], sequence: 103, ack: false))
        // Another protocol's declaration is not an endpoint map the writer knows: it goes to nft.
        var other = NFTTransaction(family: "ip", table: "kube-proxy")
        other.add(.map(name: "m", type: NFTablesCompiler.endpointMapType(family: "ip6", protocol: "tcp"), comment: nil))
        #expect(throws: NFTWireError.self) { try encoder.encode(other, firstSequence: 1) }
    }

    @Test("what the writer leaves to nft is refused with the operation named", arguments: [
        (NFTTransaction.Verb.add, NFTObject.table(comment: nil), "add table"),
        (.add, .chain(name: "nat-prerouting", base: .init(type: "nat", hook: "prerouting", priority: -100), comment: nil), "add chain"),
        (.add, .map(name: "service-ips", type: "ipv4_addr : verdict", comment: nil), "add map"),
        (.add, .rule(chain: "fw", text: "ip saddr != { 198.18.5.0/24, 198.18.5.7 } drop"), "overlapping, adjacent or open"),
        (.add, .rule(chain: "fw", text: "ip saddr != { 0.0.0.0/0, 198.19.0.1 } drop"), "overlapping, adjacent or open"),
        (.add, .rule(chain: "x", text: "ip daddr 198.19.0.1 counter drop"), "statement counter"),
        (.add, .rule(chain: "x", text: "ip6 daddr 2001:2::1 drop"), "ip6 in an ip table"),
    ])
    func leftToNFT(verb: NFTTransaction.Verb, object: NFTObject, reason: String) throws {
        var tx = NFTTransaction(family: "ip", table: "kube-proxy")
        tx.add(.chain(name: "ok", base: nil, comment: nil))
        switch verb {
        case .add: tx.add(object)
        case .flush: tx.flush(object)
        case .delete: tx.delete(object)
        }
        let error = try #require(throws: NFTWireError.self) { try encoder.encode(tx, firstSequence: 1) }
        #expect(error.code == .unsupported && error.operation == 1)
        #expect(error.message.contains(reason), "\(error)")
    }
}
