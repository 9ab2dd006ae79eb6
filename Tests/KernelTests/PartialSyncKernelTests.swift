import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import Logging
import Netlink
import NFTablesRules
import Testing

/// A partial sync must leave the kernel exactly as a full sync of the same objects would: random
/// Service spec and endpoint changes (RandomCluster), each applied by one long-lived proxier with
/// a partial sync in a namespace, then compared by `verify`'s machinery with a fresh full sync made
/// in a scratch namespace: every rule of iptables (both backends), the whole nftables table (upstream's
/// layout through `nft`, the `endpoint-maps` layout through the netlink writer, as the daemon writes it).
@Suite("Kernel: partial syncs equal full syncs", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct PartialSyncKernelTests {
    typealias Namespace = NFTablesStagesKernelTests.Namespace
    static let options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4))

    @Test("random changes, 25 partial syncs per seed: no drift from a full sync after any of them",
          arguments: [("iptables-legacy", 1), ("iptables-nft", 2), ("nftables", 3), ("iptables-legacy", 4), ("nftables", 5),
                      ("nftables-maps", 6), ("nftables-maps", 7)] as [(String, UInt64)])
    func randomChanges(mode: String, seed: UInt64) async throws {
        let ns = try Namespace("skpp\(getpid())s\(seed)")
        defer { ns.delete() }
        var quiet = Logger(label: "test")
        quiet.logLevel = .error
        let backend: IPTablesBackend = mode == "iptables-nft" ? .nft : .legacy
        var options = Self.options
        let proxier: any Proxier
        switch mode {
        case "nftables":
            proxier = NFTablesProxier(nft: NFTCommands(runner: ns.runner), options: options, family: .ipv4, logger: quiet)
        case "nftables-maps":
            options.common.nftablesLayout = .endpointMaps
            let socket = try NetworkNamespace.run(in: ns.name) { try NetlinkSocket(protocol: NFTablesNetlink.netlinkProtocol) }
            let writer = NFTablesNetlinkWriter(nft: NFTCommands(runner: ns.runner), socket: socket, logger: quiet)
            proxier = NFTablesProxier(nft: writer, options: options, family: .ipv4, logger: quiet)
        default:
            proxier = IPTablesProxier(iptables: IPTablesCommands(family: .ipv4, backend: backend, runner: ns.runner), options: options, logger: quiet)
        }
        let verifier = Verifier(runner: ns.runner, logger: quiet)
        let verifyMode: ProxyMode = mode.hasPrefix("nftables") ? .nftables : .iptables
        var cluster = RandomCluster(seed: seed)
        var state = cluster.initial()
        #expect(await proxier.sync(state).succeeded)
        var partials = 0
        for step in 0..<25 {
            let changes = cluster.change(&state)
            let outcome = await proxier.sync(state)
            #expect(outcome.succeeded, "seed \(seed) step \(step) \(changes): \(outcome.error ?? "")")
            if !outcome.full { partials += 1 }
            let drift = try await verifier.differences(mode: verifyMode, state: state, options: options, backend: backend)
            #expect(drift.isEmpty, "seed \(seed) step \(step) after \(changes): \(drift)")
            if !drift.isEmpty { break }
        }
        #expect(partials == 25, "every change went as a partial sync")
        // The comparison sees one stray rule or element.
        let stray = mode.hasPrefix("nftables") ? "nft add element ip kube-proxy cluster-ips { 198.18.255.254 }"
            : "\(backend.binary("iptables", family: .ipv4)) -t nat -A KUBE-MARK-MASQ -j RETURN"
        #expect(Lab.shell("ip netns exec \(ns.name) \(stray)").status == 0)
        let drift = try await verifier.differences(mode: verifyMode, state: state, options: options, backend: backend)
        #expect(drift.count == 1, "\(drift)")
    }
}
