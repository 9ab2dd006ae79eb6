import KubeProxyKernel
import KubeProxyTesting
import Netlink
import NFTablesRules
import Testing

/// The fake kernel's own checks on hand-made batches: each refusal at the message's index, with
/// the kernel's errno, and nothing applied.
@Suite("FakeNFTablesNetlink: the kernel's checks")
struct FakeNFTablesNetlinkChecksTests {
    /// A fake holding table ip kube-proxy with map `service-ips` and chain `svc`.
    static func kernel() async throws -> FakeNFTablesNetlink {
        let kernel = FakeNFTablesNetlink()
        var setup = NFTTransaction(family: "ip", table: "kube-proxy")
        setup.add(.table(comment: nil))
        setup.add(.map(name: "service-ips", type: "ipv4_addr . inet_proto . inet_service : verdict", comment: nil))
        setup.add(.chain(name: "svc", base: nil, comment: nil))
        try await kernel.nft.run(setup)
        return kernel
    }

    static func send(_ batch: [NetlinkMessage], to kernel: FakeNFTablesNetlink) async throws {
        try await BlockingIO.run { try kernel.transaction(batch) }
    }

    @Test("BEGIN, a chain, then the case's message, END: refused at index 2", arguments: [
        ("no BATCH_END", Int32(22)), ("a gap in the sequence numbers", 22), ("an anonymous map no rule binds", 22),
        ("a lookup by an unknown set id", 2), ("deleting a missing element", 2), ("a message for table ip6 kube-proxy", 2),
        ("an element for a chain that does not exist", 2), ("a rule inserted first", 95),
    ])
    func refused(name: String, errno: Int32) async throws {
        let kernel = try await Self.kernel(), before = kernel.nft.table
        let (ip, table) = (NFTablesNetlink.Family.ip, "kube-proxy")
        let key = NFTablesNetlink.key([[198, 19, 0, 1], [6], [0, 80]])
        var message = NFTablesNetlink.rule(family: ip, table: table, chain: "new", [.verdict(.accept)], sequence: 2, ack: true)
        switch name {
        case "an anonymous map no rule binds":
            message = NFTablesNetlink.anonymousVerdictMap(family: ip, table: table, id: 1, size: 1, sequence: 2)
        case "a lookup by an unknown set id":
            message = NFTablesNetlink.rule(family: ip, table: table, chain: "new", [.numgenRandom(modulus: 1, register: 1),
                                           .lookup(set: NFTablesNetlink.anonymousMapName, setID: 9, register: 1, verdictMap: true)], sequence: 2)
        case "deleting a missing element":
            message = NFTablesNetlink.elements(add: false, family: ip, table: table, set: "service-ips", [.init(key: key)], sequence: 2)
        case "a message for table ip6 kube-proxy":
            message = NFTablesNetlink.chain(add: true, family: .ip6, table: table, name: "other", sequence: 2)
        case "an element for a chain that does not exist":
            message = NFTablesNetlink.elements(add: true, family: ip, table: table, set: "service-ips", [.init(key: key, data: .goto("nowhere"))], sequence: 2)
        case "a rule inserted first":
            message.flags = NetlinkMessage.Flags(rawValue: message.flags.rawValue & ~0x800)
        default: break
        }
        var batch = NFTablesNetlink.batch([NFTablesNetlink.chain(add: true, family: ip, table: table, name: "new", sequence: 1, ack: false), message],
                                          begin: 0, end: 3)
        if name == "no BATCH_END" { batch.removeLast() }
        if name == "a gap in the sequence numbers" { batch[2].sequence = 7 }
        let sent = batch
        let error = try await #require(throws: NetlinkError.self) { try await Self.send(sent, to: kernel) }
        #expect(error.batchIndex == 2 && error.errno == errno && error.code == .kernel, "\(error)")
        #expect(kernel.nft.table == before && kernel.transactions.isEmpty)
    }

    @Test("the same batch without the fault applies whole; dumps count what the table holds, ENOENT for what it lacks")
    func accepted() async throws {
        let kernel = try await Self.kernel()
        let ops = [NFTablesNetlink.chain(add: true, family: .ip, table: "kube-proxy", name: "new", sequence: 1, ack: false),
                   NFTablesNetlink.rule(family: .ip, table: "kube-proxy", chain: "new", [.verdict(.accept)], sequence: 2),
                   NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "service-ips",
                                            [.init(key: NFTablesNetlink.key([[198, 19, 0, 1], [6], [0, 80]]), data: .goto("new"))], sequence: 3)]
        try await Self.send(NFTablesNetlink.batch(ops, begin: 0, end: 4), to: kernel)
        #expect(kernel.nft.table.chains["new"]?.rules == ["accept"])
        #expect(kernel.nft.table.containers["service-ips"]?.keys == ["198.19.0.1 . tcp . 80"])
        #expect(kernel.transactions.first?.rendered() == """
            add chain ip kube-proxy new
            add rule ip kube-proxy new accept
            add element ip kube-proxy service-ips { 198.19.0.1 . tcp . 80 : goto new }

            """)
        #expect(try kernel.request(NFTablesNetlink.dumpRules(family: .ip, table: "kube-proxy", chain: "new", sequence: 5)).count == 1)
        let elements = try kernel.request(NFTablesNetlink.dumpElements(family: .ip, table: "kube-proxy", set: "service-ips", sequence: 6))
        #expect(try elements.reduce(0) { $0 + (try NFTablesNetlink.elementCount(in: $1)) } == 1)
        let missing = #expect(throws: NetlinkError.self) { try kernel.request(NFTablesNetlink.dumpRules(family: .ip, table: "kube-proxy", chain: "gone", sequence: 7)) }
        #expect(missing?.errno == 2)
    }
}
