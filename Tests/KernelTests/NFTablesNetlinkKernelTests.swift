import Foundation
import KubeProxyKernel
import Netlink
import Testing

/// nf_tables over our own netlink writer, against this machine's kernel: elements and chains written in one
/// batch must leave exactly the table `nft add element` leaves, a refused batch nothing at all.
@Suite("Kernel: nf_tables elements and chains over netlink", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct NFTablesNetlinkKernelTests {
    static let table = """
        table ip kube-proxy {
          map service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
          set cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
          chain service-web { }
          chain service-dns { }
        }
        """

    /// Two namespaces with the same empty table: one written by `nft`, one by the netlink writer.
    final class Pair {
        let nft = "skp-nlw-nft-\(getpid())", ours = "skp-nlw-ours-\(getpid())"
        let socket: NetlinkSocket
        var sequence: UInt32 = 100
        init() throws {
            for ns in [nft, ours] {
                Lab.shell("ip netns del \(ns) 2>/dev/null; ip netns add \(ns)")
                let r = Lab.shell("printf '%s\\n' '\(NFTablesNetlinkKernelTests.table)' | ip netns exec \(ns) nft -f -")
                guard r.status == 0 else { throw LabError(message: "nft -f: \(r.output)") }
            }
            let name = ours
            socket = try NetworkNamespace.run(in: name) { try NetlinkSocket(protocol: NFTablesNetlink.netlinkProtocol) }
        }
        deinit { for ns in [nft, ours] { Lab.shell("ip netns del \(ns)") } }

        func next() -> UInt32 { sequence += 1; return sequence }
        func listing(_ ns: String) -> String { Lab.shell("ip netns exec \(ns) nft list table ip kube-proxy").output }
        func viaNFT(_ commands: String) throws {
            let r = Lab.shell("printf '%s\\n' '\(commands)' | ip netns exec \(nft) nft -f -")
            guard r.status == 0 else { throw LabError(message: "nft: \(r.output)") }
        }
        func viaNetlink(_ operations: [NetlinkMessage]) throws {
            let begin = next()
            let ops = operations.map { var m = $0; m.sequence = next(); return m }
            try socket.transaction(NFTablesNetlink.batch(ops, begin: begin, end: next()))
        }
    }

    static func serviceKey(_ ip: [UInt8], _ proto: UInt8, _ port: UInt16) -> [UInt8] {
        NFTablesNetlink.key([ip, [proto], [UInt8(port >> 8), UInt8(port & 0xFF)]])
    }

    @Test("added and deleted elements (concatenated keys, goto verdicts, comments) leave the table nft leaves")
    func sameTableAsNFT() throws {
        let pair = try Pair()
        try pair.viaNFT("""
            add element ip kube-proxy service-ips { 198.18.10.10 . tcp . 80 comment "demo/web/tcp/http" : goto service-web, 198.18.10.12 . udp . 53 comment "demo/dns/udp/dns" : goto service-dns }
            add element ip kube-proxy cluster-ips { 198.18.10.10, 198.18.10.12 }
            """)
        try pair.viaNetlink([
            NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "service-ips", [
                .init(key: Self.serviceKey([198, 18, 10, 10], 6, 80), data: .goto("service-web"), comment: "demo/web/tcp/http"),
                .init(key: Self.serviceKey([198, 18, 10, 12], 17, 53), data: .goto("service-dns"), comment: "demo/dns/udp/dns"),
            ], sequence: 0),
            NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "cluster-ips",
                                     [.init(key: [198, 18, 10, 10]), .init(key: [198, 18, 10, 12])], sequence: 0),
        ])
        let written = pair.listing(pair.ours)
        #expect(written.contains("198.18.10.10 . tcp . 80 comment \"demo/web/tcp/http\" : goto service-web"), "\(written)")
        #expect(written == pair.listing(pair.nft), "netlink:\n\(written)\nnft:\n\(pair.listing(pair.nft))")

        try pair.viaNFT("delete element ip kube-proxy service-ips { 198.18.10.12 . udp . 53 }\ndelete element ip kube-proxy cluster-ips { 198.18.10.12 }")
        try pair.viaNetlink([
            NFTablesNetlink.elements(add: false, family: .ip, table: "kube-proxy", set: "service-ips", [.init(key: Self.serviceKey([198, 18, 10, 12], 17, 53))], sequence: 0),
            NFTablesNetlink.elements(add: false, family: .ip, table: "kube-proxy", set: "cluster-ips", [.init(key: [198, 18, 10, 12])], sequence: 0),
        ])
        #expect(pair.listing(pair.ours) == pair.listing(pair.nft))
        #expect(!pair.listing(pair.ours).contains("198.18.10.12"))
    }

    @Test("a batch with one refused element changes nothing, and the error names that message")
    func atomic() throws {
        let pair = try Pair()
        let before = pair.listing(pair.ours)
        do {
            try pair.viaNetlink([
                NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "cluster-ips", [.init(key: [198, 18, 10, 20])], sequence: 0),
                NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "service-ips",
                                         [.init(key: Self.serviceKey([198, 18, 10, 20], 6, 80), data: .goto("service-missing"))], sequence: 0),
            ])
            Issue.record("the kernel accepted a goto to a chain that does not exist")
        } catch let error as NetlinkError {
            #expect(error.errno == 2 && error.batchIndex == 2, "\(error)")   // ENOENT, the second operation (after BATCH_BEGIN)
        }
        #expect(pair.listing(pair.ours) == before, "nothing of the refused batch was applied")
    }

    @Test("chains added, flushed and deleted leave the table nft leaves; the ops and elements share one atomic batch")
    func chains() throws {
        let pair = try Pair()
        try pair.viaNFT("add rule ip kube-proxy service-web ip daddr 198.18.10.10 counter\nadd rule ip kube-proxy service-dns counter")
        let setup = Lab.shell("printf '%s\\n' 'add rule ip kube-proxy service-web ip daddr 198.18.10.10 counter' 'add rule ip kube-proxy service-dns counter' | ip netns exec \(pair.ours) nft -f -")
        try #require(setup.status == 0, "\(setup.output)")
        try pair.viaNFT("""
            add chain ip kube-proxy endpoint-a
            add chain ip kube-proxy endpoint-b { comment "demo/web/tcp/http__198.18.1.2/8080" ; }
            add chain ip kube-proxy endpoint-a
            flush chain ip kube-proxy service-web
            flush chain ip kube-proxy service-dns
            delete chain ip kube-proxy service-dns
            add element ip kube-proxy service-ips { 198.18.10.10 . tcp . 80 : goto endpoint-a }
            """)
        try pair.viaNetlink([
            NFTablesNetlink.chain(add: true, family: .ip, table: "kube-proxy", name: "endpoint-a", sequence: 0),
            NFTablesNetlink.chain(add: true, family: .ip, table: "kube-proxy", name: "endpoint-b", comment: "demo/web/tcp/http__198.18.1.2/8080", sequence: 0),
            NFTablesNetlink.chain(add: true, family: .ip, table: "kube-proxy", name: "endpoint-a", sequence: 0),   // again: no error, as nft add
            NFTablesNetlink.flushChain(family: .ip, table: "kube-proxy", name: "service-web", sequence: 0),
            NFTablesNetlink.flushChain(family: .ip, table: "kube-proxy", name: "service-dns", sequence: 0),
            NFTablesNetlink.chain(add: false, family: .ip, table: "kube-proxy", name: "service-dns", sequence: 0),
            // A chain created earlier in the same batch can already be a goto target.
            NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "service-ips",
                                     [.init(key: Self.serviceKey([198, 18, 10, 10], 6, 80), data: .goto("endpoint-a"))], sequence: 0),
        ])
        let written = pair.listing(pair.ours)
        #expect(written == pair.listing(pair.nft), "netlink:\n\(written)\nnft:\n\(pair.listing(pair.nft))")
        #expect(written.contains("chain endpoint-b {\n\t\tcomment \"demo/web/tcp/http__198.18.1.2/8080\"") && !written.contains("service-dns"))
    }
}
