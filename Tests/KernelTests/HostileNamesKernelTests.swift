import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import Netlink
import NFTablesRules
import Testing

/// The kernel takes the rules of names holding every byte value (validation bypassed) exactly as
/// it takes plain names': no line injected, no payload refused, `cleanup` still works.
@Suite("Kernel: every byte value in a name", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct HostileNamesKernelTests {
    typealias Namespace = NFTablesStagesKernelTests.Namespace

    /// Rule lines (`-A`) per table in `iptables-save` of one namespace.
    static func ruleCount(_ ns: Namespace, _ backend: IPTablesBackend) -> Int {
        Lab.shell("ip netns exec \(ns.name) \(backend.binary("iptables-save", family: .ipv4))").output
            .split(separator: "\n").filter { $0.hasPrefix("-A KUBE-") }.count
    }

    @Test("iptables (both backends): the hostile payload restores, with the plain payload's rule count; cleanup removes it",
          arguments: [IPTablesBackend.legacy, .nft])
    func iptables(backend: IPTablesBackend) async throws {
        let tag = "skph\(getpid())\(backend.rawValue.prefix(1))"
        let hostileNS = try Namespace("\(tag)-a"), plainNS = try Namespace("\(tag)-b")
        defer { hostileNS.delete(); plainNS.delete() }
        let compiler = IPTablesCompiler(options: IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!),
                                                                         nodePortAddresses: NodePortAddresses([], family: .ipv4)))
        for (ns, plain) in [(hostileNS, false), (plainNS, true)] {
            let proxier = IPTablesProxier(iptables: IPTablesCommands(family: .ipv4, backend: backend, runner: ns.runner), options: compiler.options)
            let outcome = await proxier.sync(HostileNames.state(plain: plain))
            #expect(outcome.succeeded, "\(plain ? "plain" : "hostile") names: \(outcome.error ?? "")")
        }
        let hostileRules = Self.ruleCount(hostileNS, backend)
        #expect(hostileRules > 256 * 5)
        #expect(hostileRules == Self.ruleCount(plainNS, backend))
        let cleanup = Lab.shell("ip netns exec \(hostileNS.name) '\(Lab.binary)' cleanup --iptables-backend \(backend.rawValue) 2>&1")
        #expect(cleanup.status == 0, "\(cleanup.output)")
        let left = Lab.shell("ip netns exec \(hostileNS.name) \(backend.binary("iptables-save", family: .ipv4))").output
            .split(separator: "\n").filter { $0.hasPrefix("-A KUBE-") && !$0.hasPrefix("-A KUBE-FIREWALL ") }   // kubelet's, as upstream leaves it
        #expect(left.isEmpty, "left after cleanup: \(left)")
    }

    @Test("nftables (nft and the netlink writer): the hostile table loads with the plain table's objects")
    func nftables() async throws {
        let tag = "skph\(getpid())n"
        let byNFT = try Namespace("\(tag)-a"), byNetlink = try Namespace("\(tag)-b"), plainNS = try Namespace("\(tag)-c")
        defer { byNFT.delete(); byNetlink.delete(); plainNS.delete() }
        let options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4))
        let socket = try NetworkNamespace.run(in: byNetlink.name) { try NetlinkSocket(protocol: NFTablesNetlink.netlinkProtocol) }
        let writers: [(Namespace, any NFTablesInterface, Bool)] = [
            (byNFT, NFTCommands(runner: byNFT.runner), false),
            (byNetlink, NFTablesNetlinkWriter(nft: NFTCommands(runner: byNetlink.runner), socket: socket), false),
            (plainNS, NFTCommands(runner: plainNS.runner), true),
        ]
        for (ns, nft, plain) in writers {
            let proxier = NFTablesProxier(nft: nft, options: options, family: .ipv4)
            let outcome = await proxier.sync(HostileNames.state(plain: plain))
            #expect(outcome.succeeded, "\(ns.name): \(outcome.error ?? "")")
        }
        let (viaNFT, viaNetlink, plain) = (byNFT.table(), byNetlink.table(), plainNS.table())
        #expect(viaNFT.count > 256 * 3)
        #expect(viaNFT.count == plain.count, "the same number of chains, sets and maps")
        #expect(NFTablesStagesKernelTests.difference(viaNetlink, viaNFT) == [], "netlink and nft wrote the same table")
        let rules = { (blocks: [String]) in blocks.joined().split(separator: "\n").count }
        #expect(rules(viaNFT) == rules(plain), "the same number of lines in nft's listing")
    }
}
