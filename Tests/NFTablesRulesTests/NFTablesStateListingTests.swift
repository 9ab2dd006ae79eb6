import Foundation
import NFTablesRules
import Testing

/// `nft list table` output read back into a table state (`trace --live` in nftables mode).
@Suite("nft list table output as a table state")
struct NFTablesStateListingTests {
    /// Upstream's overall-rules table as the kernel lists it: upstream's `expected.nft` loaded with
    /// `nft -f` in a scratch namespace, then `nft list table ip kube-proxy` (named priorities).
    static func overallListing() throws -> String {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/listings/overall-rules.txt")
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test("upstream's overall table, listed by the kernel, reads back as the compiler's first sync")
    func overall() throws {
        let listed = try NFTablesState(listing: Self.overallListing())
        let compiled = try NFTablesFixtureTests.inputs("overall-rules", config: "overall-rules/config.yaml").firstSyncNFTablesState()
        #expect(listed.family == "ip" && listed.table == "kube-proxy" && listed.tableComment == "rules for kube-proxy")
        #expect(Set(listed.chainNames) == Set(compiled.chainNames))
        for name in compiled.chainNames {
            let (live, want) = (listed.chains[name], compiled.chains[name])
            #expect(live?.base == want?.base, "\(name)")
            #expect(live?.comment == want?.comment, "\(name)")
            // The kernel lists a one-element anonymous set without braces.
            let wanted = want?.rules.map { $0.replacingOccurrences(of: #"\{ ([^ ,]+) \}"#, with: "$1", options: .regularExpression) }
            #expect(live?.rules == wanted, "\(name)")
        }
        #expect(Set(listed.containerNames) == Set(compiled.containerNames))
        for name in compiled.containerNames {
            let (live, want) = (try #require(listed.containers[name]), try #require(compiled.containers[name]))
            #expect(live.isMap == want.isMap && live.type == want.type && live.flags == want.flags, "\(name)")
            #expect(live.timeoutSeconds == want.timeoutSeconds && live.comment == want.comment, "\(name)")
            #expect(Set(live.keys) == Set(want.keys), "\(name)")
            for key in want.keys {
                #expect(live.elements[key]?.value == want.elements[key]?.value, "\(name) \(key)")
                #expect(live.elements[key]?.comment == want.elements[key]?.comment, "\(name) \(key)")
            }
        }
    }

    @Test("ip6, numeric and offset priorities, dynamic elements, multi-line elements, vmap items")
    func shapes() throws {
        let listing = """
            table ip6 kube-proxy {
            \tmap service-ips {
            \t\ttype ipv6_addr . inet_proto . inet_service : verdict
            \t\tcomment "ClusterIP, ExternalIP and LoadBalancer IP traffic"
            \t\telements = { 2001:2:10::b . udp . 53 comment "a/b:dns, x" : goto svc,
            \t\t\t     2001:2:10::a . tcp . 80 : goto svc }
            \t}

            \tset aff {
            \t\ttype ipv6_addr
            \t\tsize 65535
            \t\tflags dynamic,timeout
            \t\ttimeout 1d2h3m4s
            \t\telements = { 2001:2::1 expires 2h59m59s984ms }
            \t}

            \tchain pre {
            \t\ttype filter hook prerouting priority dstnat - 10; policy accept;
            \t\tct state new jump svc
            \t}

            \tchain post {
            \t\ttype nat hook postrouting priority 100; policy accept;
            \t\tmeta mark & 0x00004000 == 0x00000000 return
            \t\tmeta mark set meta mark ^ 0x00004000
            \t}

            \tchain svc {
            \t\tcomment "a helper"
            \t\tnumgen random mod 2 vmap { 0 : goto ep, 1 : goto post }
            \t\tmeta l4proto tcp dnat to [2001:2:1:1::2]:8080 comment "x, y"
            \t}
            }
            """
        let state = try NFTablesState(listing: listing)
        #expect(state.family == "ip6")
        #expect(state.chainNames == ["pre", "post", "svc"])
        #expect(state.chains["pre"]?.base == .init(type: "filter", hook: "prerouting", priority: -110))
        #expect(state.chains["post"]?.base == .init(type: "nat", hook: "postrouting", priority: 100))
        #expect(state.chains["post"]?.rules == ["mark and 0x4000 == 0 return", "mark set mark xor 0x4000"])
        #expect(state.chains["svc"]?.comment == "a helper")
        #expect(state.chains["svc"]?.rules == ["numgen random mod 2 vmap { 0 : goto ep , 1 : goto post }",
                                              "meta l4proto tcp dnat to [2001:2:1:1::2]:8080 comment \"x, y\""])
        let map = try #require(state.containers["service-ips"])
        #expect(map.isMap && map.keys == ["2001:2:10::b . udp . 53", "2001:2:10::a . tcp . 80"])
        #expect(map.elements["2001:2:10::b . udp . 53"]?.value == "goto svc" && map.elements["2001:2:10::b . udp . 53"]?.comment == "a/b:dns, x")
        let set = try #require(state.containers["aff"])
        #expect(!set.isMap && set.flags == ["dynamic", "timeout"] && set.timeoutSeconds == 93784 && set.keys == ["2001:2::1"])
        #expect(throws: NFTablesError.self) { try NFTablesState(listing: "Error: No such file or directory") }
    }
}
